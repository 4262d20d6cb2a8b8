"""Tracing figures on SQLite: overhead per tool call, and `GET /traces` over a million rows.

python bench/bench_traces.py            # both
python bench/bench_traces.py overhead   # or: pages
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx
from dbos import DBOS
from sqlalchemy import select

from boocode import engine
from boocode.agent import service
from boocode.agent.instrument import UntracedCalls
from boocode.config import Settings
from boocode.contracts.chats import MessageCreate
from boocode.contracts.frames import ErrorFrame
from boocode.db.chats import insert_chat
from boocode.db.engine import Database
from boocode.db.tables import Message
from boocode.events.bus import LocalBus
from boocode.events.log import EventLog
from boocode.traces.recorder import TraceRecorder
from boocode.traces.store import TraceStore
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

TOOL_CALLS = 500
ROWS = 1_000_000
PAGE_SAMPLES = 200


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


# --- (a) overhead per tool call -------------------------------------------------------------


async def turn_per_call(fake: FakeModelServer, *, tracing: bool) -> float:
    """Median time between consecutive tool results of one turn of 500 no-op calls."""
    root = Path(tempfile.mkdtemp(prefix="boocode-bench-"))
    (root / "ws").mkdir()
    settings = Settings(
        data_dir=root / "data",
        workspace=root / "ws",
        base_url=fake.base_url,
        api_key=fake.api_key,
        model="fake-model",
        tracing=tracing,
    )
    calls = [("list_files", {"path": "."})] * TOOL_CALLS
    fake.script([Reply.tool_calls(calls), Reply.text("done")])
    rt = await engine.start(settings, role="run")
    try:
        chat = await service.create_chat()
        accepted = await service.post_message(chat.id, MessageCreate(content="go"))
        handle = await DBOS.retrieve_workflow_async(accepted.task_id)
        await handle.get_result()
        async with rt.db.session() as session:
            stamps = list(
                (
                    await session.execute(
                        select(Message.created_at)
                        .where(Message.chat_id == chat.id, Message.role == "tool")
                        .order_by(Message.id)
                    )
                ).scalars()
            )
    finally:
        await engine.stop(rt)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    return statistics.median(gaps)


async def direct_per_call() -> tuple[float, float, float]:
    """The recorder alone around a no-op call, against no tracer; and one frame publish."""
    root = Path(tempfile.mkdtemp(prefix="boocode-bench-"))
    db = Database(f"sqlite+aiosqlite:///{root / 'b.sqlite'}")
    await db.upgrade()
    events = EventLog(db, LocalBus())
    await insert_chat(db, workspace="/", model="m", title="b", chat_id="c")
    figures = []
    for tracer in (UntracedCalls(), TraceRecorder(TraceStore(db, events))):
        samples = []
        for i in range(TOOL_CALLS):
            start = time.perf_counter()
            async with tracer.span(
                chat_id="c", turn=1, kind="tool", name="noop", input={"i": i}, session_id="s"
            ) as span:
                span.output = "ok"
            samples.append(time.perf_counter() - start)
        figures.append(statistics.median(samples))
    publishes = []
    for _ in range(TOOL_CALLS):
        start = time.perf_counter()
        await events.publish(ErrorFrame(chat_id="c", message="x"))
        publishes.append(time.perf_counter() - start)
    await db.dispose()
    return figures[0], figures[1], statistics.median(publishes)


async def overhead() -> None:
    untraced, traced, publish = await direct_per_call()
    print(
        f"recorder around a no-op call: {ms(traced)} traced vs {ms(untraced)} untraced "
        f"(of which 2 frames through EventLog.publish: {ms(2 * publish)})"
    )
    with FakeModelServer() as fake:
        off = await turn_per_call(fake, tracing=False)
        on = await turn_per_call(fake, tracing=True)
    print(
        f"turn of {TOOL_CALLS} no-op tool calls, median per call: {ms(on)} tracing on, "
        f"{ms(off)} off -> overhead {ms(on - off)} (target <= 1 ms)"
    )


# --- (b) GET /traces over a million rows ----------------------------------------------------


def seed(root: Path) -> str:
    data = root / "data"
    data.mkdir(parents=True)
    db = Database(f"sqlite+aiosqlite:///{data / 'boocode.sqlite'}")
    asyncio.run(db.upgrade())
    asyncio.run(db.dispose())
    chat_id = "b" * 32
    conn = sqlite3.connect(data / "boocode.sqlite")
    now = datetime(2026, 1, 1)
    conn.execute(
        "INSERT INTO chats (id, title, created_at, updated_at, workspace, model, branch_id,"
        " last_seq) VALUES (?, 'bench', ?, ?, '/', 'fake-model', 0, 0)",
        (chat_id, str(now), str(now)),
    )
    tools = ["read_file", "grep", "run_command", "list_files"]

    def rows(start: int, count: int):  # type: ignore[no-untyped-def]
        for i in range(start, start + count):
            kind = "llm" if i % 4 == 0 else "tool"
            began = now + timedelta(milliseconds=i)
            yield (
                f"run-{i // 40}",
                chat_id,
                i // 40 + 1,
                kind,
                "fake-model" if kind == "llm" else tools[i % 4],
                json.dumps({"path": f"src/file_{i}.py"}),
                f"output of call {i}\n" * 4,
                began.isoformat(" "),
                (began + timedelta(milliseconds=3)).isoformat(" "),
                3.0,
                "error" if i % 50 == 0 else "ok",
            )

    started = time.perf_counter()
    for offset in range(0, ROWS, 100_000):
        conn.executemany(
            "INSERT INTO tool_traces (session_id, chat_id, turn_number, kind, tool_name, input,"
            " output, started_at, finished_at, latency_ms, outcome)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(offset, 100_000),
        )
        conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    print(f"seeded {ROWS:,} trace rows in {time.perf_counter() - started:.1f} s")
    return chat_id


def timed_pages(http: httpx.Client, path: str, params: dict[str, str]) -> float:
    samples = []
    for _ in range(PAGE_SAMPLES):
        start = time.perf_counter()
        response = http.get(path, params=params)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200 and response.json()["items"]
    return statistics.median(samples)


def pages() -> None:
    root = Path(tempfile.mkdtemp(prefix="boocode-bench-"))
    chat_id = seed(root)
    server = LiveServer.start(root)
    try:
        path = f"/api/chats/{chat_id}/traces"
        with server.client() as http:
            http.get(path)  # warm the connection and the page cache
            first = timed_pages(http, path, {"limit": "50"})
            middle = timed_pages(http, path, {"limit": "50", "cursor": str(ROWS // 2)})
            last = timed_pages(http, path, {"limit": "50", "cursor": "51"})
            turn = timed_pages(http, path, {"limit": "50", "turn": "12000"})
            failed = timed_pages(http, path, {"limit": "50", "outcome": "error", "cursor": "500"})
    finally:
        server.stop()
    print(f"GET /traces page of 50 over HTTP, {ROWS:,} rows, median of {PAGE_SAMPLES}:")
    print(f"  first page {ms(first)}, middle {ms(middle)}, last {ms(last)} (target <= 20 ms)")
    print(f"  last / first = {last / first:.2f} (target <= 1.5)")
    print(f"  filtered: ?turn= (40 rows) {ms(turn)}, ?outcome=error near the end {ms(failed)}")


if __name__ == "__main__":
    which = sys.argv[1:] or ["overhead", "pages"]
    if "overhead" in which:
        asyncio.run(overhead())
    if "pages" in which:
        pages()
