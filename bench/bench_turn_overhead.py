"""Orchestration overhead of a durable turn, against the scripted fake model on loopback.

Prints the time per LLM step and per no-op tool call that BooCode adds around the model and
the tool themselves (DBOS steps, storage, frames, tracing), on SQLite.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dbos import DBOS
from dbos._error import DBOSNonExistentWorkflowError

from boocode import engine
from boocode.agent import service
from boocode.config import Settings
from boocode.contracts.chats import MessageCreate
from support.fake_model import FakeModelServer, Reply

TURNS = 40
TOOL_CALLS = 100


class _TimedCalls:
    """Wraps the real tracer and adds up the time spent inside model and tool calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.inside = {"llm": 0.0, "tool": 0.0}

    @asynccontextmanager
    async def span(self, **kwargs: Any) -> AsyncIterator[Any]:
        async with self.inner.span(**kwargs) as span:
            started = time.perf_counter()
            try:
                yield span
            finally:
                self.inside[kwargs["kind"]] += time.perf_counter() - started


async def _turn(chat_id: str, prompt: str) -> float:
    started = time.perf_counter()
    accepted = await service.post_message(chat_id, MessageCreate(content=prompt))
    while True:  # the 202 answers before the turn's workflow is started
        try:
            handle = await DBOS.retrieve_workflow_async(accepted.task_id)
            break
        except DBOSNonExistentWorkflowError:
            await asyncio.sleep(0.001)
    await handle.get_result(polling_interval_sec=0.02)
    return time.perf_counter() - started


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as fake:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        settings = Settings(
            data_dir=Path(tmp) / "data",
            workspace=workspace,
            base_url=fake.base_url,
            api_key=fake.api_key,
            max_tool_iterations=TOOL_CALLS + 5,
        )
        rt = await engine.start(settings, role="run")
        timed = _TimedCalls(rt.tracer)
        rt.tracer = timed
        chat = await service.create_chat(workspace=workspace)
        fake.script([Reply.text("warm up")])
        await _turn(chat.id, "warm up")

        per_step = []
        for i in range(TURNS):
            fake.script([Reply.text(f"answer {i}")])
            before = dict(timed.inside)
            wall = await _turn(chat.id, f"question {i}")
            per_step.append(wall - (timed.inside["llm"] - before["llm"]))

        calls = [("list_files", {"path": "."}) for _ in range(TOOL_CALLS)]
        fake.script([Reply.tool_calls(calls), Reply.text("done")])
        before = dict(timed.inside)
        wall = await _turn(chat.id, "many tools")
        inside = sum(timed.inside.values()) - sum(before.values())
        step_overhead = statistics.median(per_step)
        per_tool = (wall - inside - 2 * step_overhead) / TOOL_CALLS
        await engine.stop(rt)

    print("Turn orchestration overhead (SQLite, fake model on loopback, model time excluded)")
    print(f"  LLM step (incl. turn start/end), median of {TURNS}: {step_overhead * 1000:.2f} ms")
    print(f"  LLM step p90: {statistics.quantiles(per_step, n=10)[-1] * 1000:.2f} ms")
    print(f"  per no-op tool call ({TOOL_CALLS} in one turn): {per_tool * 1000:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
