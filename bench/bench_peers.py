"""BooCode beside the floor and LangGraph: the same agent work, the same model, one run.

Three orchestrators run the same turns against the same scripted model (bench/peer_model.py, in
its own process on loopback), with the same system prompt, tool schemas and tool code:

- BooCode: a real `boocode serve` process, driven the way a client drives it: a POST per
  message, the answer read from the chat's WebSocket (the turn ends at its `turn_end` frame);
- the floor: a bare `AsyncOpenAI` streaming loop with tools, the history in memory, nothing
  stored;
- LangGraph: `create_react_agent` with `ChatOpenAI` (streaming) and an `AsyncSqliteSaver`
  checkpointer on a file, streamed with `stream_mode="messages"`.

Runs are interleaved (each sample runs every orchestrator, in rotating order) and ratios are
paired per sample. Where the model's own time is excluded, it is the time the model process
spent answering (request received to last byte sent), read from it around each turn.

    python bench/bench_peers.py                       # everything, a few minutes
    python bench/bench_peers.py --sections steps,first --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import openai
import psutil
import websockets
from langchain_core.messages import AIMessageChunk
from langchain_core.tools import StructuredTool
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.prebuilt import create_react_agent
from peer_model import MODEL, PeerModel, script

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from boocode.agent.prompt import system_prompt
from boocode.sandbox import Sandbox
from boocode.tools.registry import ToolRegistry
from support.live_server import LiveServer

SECTIONS = ("idle", "steps", "first", "load", "growth")

# The ReAct agent of LangGraph's docs; its successor lives in the `langchain` package.
warnings.filterwarnings("ignore", message="create_react_agent has been moved")


@dataclass
class Turn:
    wall: float  # the first byte sent to the end of the answer
    first_text: float | None = None  # to the first text delta
    accepted: float | None = None  # BooCode: to the 202


class Orchestrator(Protocol):
    name: str

    async def new_chat(self) -> str: ...

    async def turn(self, chat: str, prompt: str) -> Turn: ...

    def cpu_seconds(self) -> float: ...

    async def close(self) -> None: ...


class BooCode:
    """A `boocode serve` process; each chat's WebSocket stays open for the chat's life."""

    def __init__(self, server: LiveServer, name: str = "BooCode") -> None:
        self.name = name
        self.server = server
        self.http = httpx.AsyncClient(
            base_url=server.url,
            headers=server.headers(),
            timeout=60,
            limits=httpx.Limits(max_connections=500),
        )
        self._sockets: dict[str, Any] = {}

    async def new_chat(self) -> str:
        response = await self.http.post("/api/chats")
        response.raise_for_status()
        chat = str(response.json()["id"])
        ws = await self.server.ws(chat)
        await ws.recv()  # the snapshot
        self._sockets[chat] = ws
        return chat

    async def turn(self, chat: str, prompt: str) -> Turn:
        ws = self._sockets[chat]
        started = time.perf_counter()
        response = await self.http.post(f"/api/chats/{chat}/messages", json={"content": prompt})
        accepted = time.perf_counter() - started
        if response.status_code != 202:
            raise RuntimeError(f"BooCode refused the message: {response.text}")
        number = response.json()["turn"]
        first = None
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message_delta" and first is None:
                first = time.perf_counter() - started
            elif frame["type"] == "turn_end" and frame["turn"] == number:
                if frame["status"] != "succeeded":
                    raise RuntimeError(f"BooCode turn ended {frame['status']}: {frame}")
                return Turn(time.perf_counter() - started, first, accepted)

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far, all its threads."""
        times = psutil.Process(self.server.process.pid).cpu_times()
        return float(times.user + times.system)

    async def close(self) -> None:
        for ws in self._sockets.values():
            await ws.close()
        await self.http.aclose()


class Floor:
    """The least any orchestrator can do: stream, run the tools, keep the history in memory."""

    name = "floor"

    def __init__(self, peer: PeerModel, workspace: Path) -> None:
        self.client = openai.AsyncOpenAI(base_url=peer.base_url, api_key=peer.api_key)
        self.registry = ToolRegistry(workspace, sandbox=Sandbox.unsandboxed(workspace))
        self.tools = self.registry.schemas()
        self.system = system_prompt(str(workspace))
        self._chats: dict[str, list[dict[str, Any]]] = {}

    async def new_chat(self) -> str:
        chat = uuid.uuid4().hex
        self._chats[chat] = [{"role": "system", "content": self.system}]
        return chat

    async def turn(self, chat: str, prompt: str) -> Turn:
        messages = self._chats[chat]
        started = time.perf_counter()
        first = None
        messages.append({"role": "user", "content": prompt})
        while True:
            stream = await self.client.chat.completions.create(
                model=MODEL,
                messages=messages,  # type: ignore[arg-type]
                tools=self.tools,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
            text: list[str] = []
            calls: dict[int, dict[str, str]] = {}
            async for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta.content:
                        first = first or time.perf_counter() - started
                        text.append(choice.delta.content)
                    for piece in choice.delta.tool_calls or []:
                        call = calls.setdefault(piece.index, {"id": "", "name": "", "args": ""})
                        call["id"] = piece.id or call["id"]
                        if piece.function is not None:
                            call["name"] = piece.function.name or call["name"]
                            call["args"] += piece.function.arguments or ""
            message: dict[str, Any] = {"role": "assistant", "content": "".join(text)}
            if calls:
                message["tool_calls"] = [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": c["args"]},
                    }
                    for c in calls.values()
                ]
            messages.append(message)
            if not calls:
                return Turn(time.perf_counter() - started, first)
            for c in calls.values():
                result = await self.registry.execute(c["name"], c["args"])
                messages.append(
                    {"role": "tool", "tool_call_id": c["id"], "content": result.content}
                )

    def cpu_seconds(self) -> float:
        return time.process_time()  # this process; the model runs in its own

    async def close(self) -> None:
        await self.client.close()


class LangGraph:
    """A ReAct agent checkpointed to SQLite after every step, as LangGraph's docs build one."""

    name = "LangGraph"

    def __init__(self, peer: PeerModel, workspace: Path, saver: AsyncSqliteSaver) -> None:
        registry = ToolRegistry(workspace, sandbox=Sandbox.unsandboxed(workspace))
        tools = [_langchain_tool(registry, schema["function"]) for schema in registry.schemas()]
        model = ChatOpenAI(
            model=MODEL, base_url=peer.base_url, api_key=peer.api_key, streaming=True
        )
        self.agent = create_react_agent(
            model, tools, prompt=system_prompt(str(workspace)), checkpointer=saver
        )

    async def new_chat(self) -> str:
        return uuid.uuid4().hex

    async def turn(self, chat: str, prompt: str) -> Turn:
        config = {"configurable": {"thread_id": chat}, "recursion_limit": 500}
        started = time.perf_counter()
        first = None
        async for message, _meta in self.agent.astream(
            {"messages": [("user", prompt)]}, config, stream_mode="messages"
        ):
            if first is None and isinstance(message, AIMessageChunk) and message.content:
                first = time.perf_counter() - started
        return Turn(time.perf_counter() - started, first)

    def cpu_seconds(self) -> float:
        return time.process_time()  # this process; the model runs in its own

    async def close(self) -> None:
        return None


def _langchain_tool(registry: ToolRegistry, function: dict[str, Any]) -> StructuredTool:
    name = function["name"]

    async def run(**arguments: Any) -> str:
        return (await registry.execute(name, json.dumps(arguments))).content

    return StructuredTool.from_function(
        coroutine=run,
        name=name,
        description=function["description"],
        args_schema=function["parameters"],
    )


@dataclass
class Figures:
    """Per orchestrator, the samples of one measure (seconds or rates)."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.samples.setdefault(name, []).append(value)

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def paired_ratio(self, name: str, other: str) -> float:
        pairs = zip(self.samples[name], self.samples[other], strict=False)
        return statistics.median(a / b for a, b in pairs if b > 0)


@dataclass
class Table:
    """One column per orchestrator, then BooCode's paired ratio to each of the others."""

    names: list[str]
    rows: list[list[str]] = field(default_factory=list)

    @property
    def others(self) -> list[str]:
        return [name for name in self.names if name != "BooCode"]

    def add(
        self, measure: str, cells: dict[str, str], figures: Figures | None = None, note: str = ""
    ) -> None:
        row = [measure, *(cells.get(name, "—") for name in self.names)]
        row += [_ratio(figures, "BooCode", other, note) for other in self.others]
        self.rows.append(row)
        print("  " + " | ".join(row), flush=True)

    def print(self) -> None:
        head = ["measure", *self.names, *(f"BooCode / {other}" for other in self.others)]
        print("\n| " + " | ".join(head) + " |")
        print("| " + " | ".join("---" for _ in head) + " |")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _medians(figures: Figures) -> dict[str, str]:
    return {name: _ms(figures.median(name)) for name in figures.samples}


def _ratio(figures: Figures | None, a: str, b: str, note: str = "") -> str:
    if figures is None or a not in figures.samples or b not in figures.samples:
        return "—"
    return f"{figures.paired_ratio(a, b):.2f}x{note}"


def _rotations(systems: list[Orchestrator], sample: int) -> list[Orchestrator]:
    shift = sample % len(systems)
    return systems[shift:] + systems[:shift]


async def _measured(
    peer: PeerModel, system: Orchestrator, call: Callable[[], Awaitable[Turn]]
) -> tuple[float, float]:
    """The turn's wall time less the model's time, and the CPU the orchestrator used for it."""
    model_before, cpu_before = peer.model_time(), system.cpu_seconds()
    turn = await call()
    cpu = system.cpu_seconds() - cpu_before
    return turn.wall - (peer.model_time() - model_before), cpu


async def section_steps(
    systems: list[Orchestrator], peer: PeerModel, table: Table, sizes: dict[int, int]
) -> None:
    print("per-step overhead (model time excluded; a step = a model call and its tool call)")
    for steps, samples in sizes.items():
        wall, cpu = Figures(), Figures()
        prompt = script(steps=steps, chars=20)
        for sample in range(samples):
            for system in _rotations(systems, sample):
                chat = await system.new_chat()
                spent, used = await _measured(
                    peer, system, lambda s=system, c=chat, p=prompt: s.turn(c, p)
                )
                wall.add(system.name, spent / (steps + 1))
                cpu.add(system.name, used / (steps + 1))
        label = f"{steps} tool step{'s' if steps > 1 else ''} per turn"
        table.add(f"per step, {label}", _medians(wall), wall)
        table.add(f"CPU per step, {label}", _medians(cpu), cpu)


async def section_growth(
    systems: list[Orchestrator], peer: PeerModel, table: Table, turns: int
) -> None:
    print(f"turn 1 → turn {turns} of one chat (a tool step and an answer per turn)")
    chats = {system.name: await system.new_chat() for system in systems}
    wall: dict[str, list[float]] = {system.name: [] for system in systems}
    cpu: dict[str, list[float]] = {system.name: [] for system in systems}
    prompt = script(steps=1, chars=200)
    for number in range(turns):
        for system in _rotations(systems, number):
            spent, used = await _measured(
                peer, system, lambda s=system: s.turn(chats[s.name], prompt)
            )
            wall[system.name].append(spent)
            cpu[system.name].append(used)
    window = max(1, min(5, turns // 4))
    for what, samples in (("", wall), ("CPU, ", cpu)):
        first = Figures({name: values[:window] for name, values in samples.items()})
        last = Figures({name: values[-window:] for name, values in samples.items()})
        cells = {
            name: f"x{last.median(name) / first.median(name):.1f} "
            f"({first.median(name) * 1000:.0f} → {last.median(name) * 1000:.0f} ms)"
            for name in samples
        }
        table.add(
            f"turn 1 → turn {turns} of one chat ({what}median of {window} turns each end)",
            cells,
            last,
            f" at turn {turns}",
        )


async def section_first(
    systems: list[Orchestrator], table: Table, samples: int, sizes: tuple[int, ...]
) -> None:
    print("send → first text delta (instant model)")
    for chars in sizes:
        figures = Figures()
        for sample in range(samples):
            for system in _rotations(systems, sample):
                chat = await system.new_chat()
                turn = await system.turn(chat, script(chars=chars))
                assert turn.first_text is not None, f"{system.name} streamed no text"
                figures.add(system.name, turn.first_text)
        table.add(
            f"POST → first text delta, {chars:,}-character answer",
            _medians(figures),
            figures,
        )


async def section_load(
    systems: list[Orchestrator], table: Table, in_flight: tuple[int, ...], per_slot: int
) -> None:
    print(f"turns in flight, model 1 s per call, {per_slot} turns per slot")
    prompt = script(chars=100, delay_s=1.0)
    for slots in in_flight:
        rates = Figures()
        cells: dict[str, str] = {}
        for system in systems:
            chats = [await system.new_chat() for _ in range(slots)]
            accepted: list[float] = []

            async def slot(
                chat: str, system: Orchestrator = system, accepted: list[float] = accepted
            ) -> None:
                for _ in range(per_slot):
                    turn = await system.turn(chat, prompt)
                    if turn.accepted is not None:
                        accepted.append(turn.accepted)

            cpu_before = system.cpu_seconds()
            started = time.perf_counter()
            await asyncio.gather(*(slot(chat) for chat in chats))
            rate = slots * per_slot / (time.perf_counter() - started)
            rates.add(system.name, rate)
            cells[system.name] = f"{rate:.1f} turns/s"
            if isinstance(system, BooCode):
                cpu = (system.cpu_seconds() - cpu_before) / (slots * per_slot)
                accepted.sort()
                p50 = statistics.median(accepted)
                p99 = accepted[max(0, int(len(accepted) * 0.99) - 1)]
                cells[system.name] += (
                    f" (202: median {_ms(p50)}, p99 {_ms(p99)}; server CPU {_ms(cpu)}/turn)"
                )
        table.add(
            f"{slots} turns in flight, model 1 s per call",
            cells,
            rates,
        )


def section_idle(servers: list[BooCode], table: Table, seconds: float) -> None:
    print(f"idle server CPU over {seconds:.0f} s")
    time.sleep(10)  # past start-up: imports finishing, recovery, the first polls
    cells = {}
    for server in servers:
        before = server.cpu_seconds()
        time.sleep(seconds)
        cells[server.name] = f"{(server.cpu_seconds() - before) / seconds:.1%} of a core"
    table.add("idle server, no client", cells)


async def main(args: argparse.Namespace) -> None:
    # Stopped with SIGTERM, it still stops the servers it started.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    with tempfile.TemporaryDirectory() as tmp, PeerModel() as peer:
        env = {
            "BOOCODE_BASE_URL": peer.base_url,
            "BOOCODE_API_KEY": peer.api_key,
            "BOOCODE_MODEL": MODEL,
            "BOOCODE_MAX_TOOL_ITERATIONS": "60",
        }
        if args.database_url:
            env["BOOCODE_DATABASE_URL"] = args.database_url
        servers: list[LiveServer] = []
        try:
            servers.append(LiveServer.start(Path(tmp) / "boocode", env=env))
            if args.baseline_src:
                baseline = {**env, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
                servers.append(LiveServer.start(Path(tmp) / "baseline", env=baseline))
            pids = ", ".join(str(server.process.pid) for server in servers)
            print(f"boocode serve pid {pids}, model pid {peer.pid}", flush=True)
            print(_load_average(), flush=True)
            async with AsyncSqliteSaver.from_conn_string(f"{tmp}/langgraph.sqlite") as saver:
                await _run(args, servers, peer, saver)
        except Exception:
            for server in servers:
                print(f"{server.url} log:\n{server.log[-3000:]}", file=sys.stderr)
            raise
        finally:
            for server in servers:
                server.stop()


async def _run(
    args: argparse.Namespace, servers: list[LiveServer], peer: PeerModel, saver: AsyncSqliteSaver
) -> None:
    sections, quick = args.sections.split(","), args.quick
    boocodes = [BooCode(servers[0])]
    if len(servers) > 1:
        boocodes.append(BooCode(servers[1], name="baseline"))
    workspace = servers[0].workspace.resolve()
    every: list[Orchestrator] = [
        *boocodes,
        Floor(peer, workspace),
        LangGraph(peer, workspace, saver),
    ]
    chosen = [*args.systems.lower().split(","), "baseline"]
    systems = [s for s in every if s.name.lower() in chosen]
    table = Table([system.name for system in systems])
    try:
        if "idle" in sections:
            section_idle(boocodes, table, 5 if quick else args.idle_seconds)
        for system in systems:  # warm up: connections, caches, the first workflow
            await system.turn(await system.new_chat(), script(steps=1))
        if "steps" in sections:
            sizes = {1: 4, 10: 2, 50: 1} if quick else {1: 15, 10: 5, 50: 2}
            await section_steps(systems, peer, table, sizes)
        if "first" in sections:
            await section_first(systems, table, 4 if quick else 15, (20, 2000))
        if "load" in sections:
            in_flight = tuple(int(n) for n in args.in_flight.split(","))
            await section_load(systems, table, in_flight, 1 if quick else 3)
        if "growth" in sections:
            await section_growth(systems, peer, table, 20 if quick else args.turns)
    finally:
        for system in systems:
            await system.close()
    print(_load_average())
    table.print()


def _load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=", ".join(SECTIONS))
    parser.add_argument("--systems", default="boocode,floor,langgraph")
    parser.add_argument("--quick", action="store_true", help="few samples: a smoke run")
    parser.add_argument("--turns", type=int, default=200, help="turns of the growth chat")
    parser.add_argument("--in-flight", default="20,100", help="turns in flight under load")
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--database-url", help="BooCode's database (default: SQLite)")
    parser.add_argument(
        "--baseline-src",
        help="also run a BooCode served from this src/ (another checkout) as `baseline`",
    )
    return parser.parse_args()


if __name__ == "__main__":
    try:
        asyncio.run(main(_arguments()))
    except websockets.exceptions.ConnectionClosed as exc:
        sys.exit(f"the BooCode server closed a WebSocket: {exc}")
    except asyncio.CancelledError:
        sys.exit("stopped")
