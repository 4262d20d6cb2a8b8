"""Every call wrapped by the recorder becomes a start row + frame, then a finish row + frame."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from boocode.contracts.traces import (
    PREVIEW_CHARS,
    ToolTraceFinishFrame,
    ToolTraceStartFrame,
    TraceOutcome,
)
from boocode.contracts.usage import TokenUsage
from boocode.db.tables import ToolTrace
from boocode.events.log import EventLog
from boocode.traces import query
from boocode.traces.outcome import InvalidOutcome, check_finish
from boocode.traces.recorder import TraceRecorder
from boocode.traces.store import CallEnd, TraceStore

from .conftest import add_chat


async def _row(events: EventLog, trace_id: int) -> ToolTrace:
    async with events.db.session() as session:
        return (
            await session.execute(select(ToolTrace).where(ToolTrace.id == trace_id))
        ).scalar_one()


async def test_a_turn_reads_as_model_call_then_its_tool_calls(
    events: EventLog, recorder: TraceRecorder
) -> None:
    chat_id = await add_chat(events.db)
    frames = events.bus.subscribe(chat_id)
    usage = TokenUsage(
        prompt_tokens=120,
        completion_tokens=30,
        cache_hit_tokens=100,
        cache_miss_tokens=20,
        reasoning_tokens=12,
    )
    async with recorder.span(
        chat_id=chat_id,
        turn=1,
        kind="llm",
        name="fake-model",
        input={"messages": 2},
        session_id="run-1",
        step_key="t1-llm0",
    ) as llm:
        start_row = await _row(events, llm.trace_id or 0)
        assert start_row.outcome == "running" and start_row.finished_at is None
        llm.usage, llm.output = usage, "calling tools"
    async with recorder.span(
        chat_id=chat_id,
        turn=1,
        kind="tool",
        name="read_file",
        input={"path": "a.txt"},
        session_id="run-1",
    ) as tool:
        await asyncio.sleep(0.02)
        tool.output = "hello"

    model_row, tool_row = (
        await _row(events, llm.trace_id or 0),
        await _row(events, tool.trace_id or 0),
    )
    assert (model_row.outcome, tool_row.outcome) == ("ok", "ok")
    assert tool_row.parent_id == model_row.id and model_row.parent_id is None
    assert tool_row.latency_ms is not None and tool_row.latency_ms >= 20
    assert tool_row.finished_at is not None and tool_row.output == "hello"
    assert (model_row.tokens_used, model_row.cache_tokens, model_row.cache_miss_tokens) == (
        150,
        100,
        20,
    )
    assert (model_row.prompt_tokens, model_row.completion_tokens, model_row.reasoning_tokens) == (
        120,
        30,
        12,
    )
    assert tool_row.tokens_used is None

    received = [frames.queue.get_nowait() for _ in range(4)]
    assert [type(f) for f in received] == [
        ToolTraceStartFrame,
        ToolTraceFinishFrame,
        ToolTraceStartFrame,
        ToolTraceFinishFrame,
    ]
    assert [f.seq for f in received] == sorted(f.seq for f in received)
    start, finish = received[2], received[3]
    assert isinstance(start, ToolTraceStartFrame) and isinstance(finish, ToolTraceFinishFrame)
    assert start.trace.outcome is TraceOutcome.RUNNING and start.trace.parent_id == model_row.id
    assert finish.trace.id == start.trace.id and finish.trace.outcome is TraceOutcome.OK
    assert finish.trace.latency_ms == tool_row.latency_ms
    assert received[1].trace.tokens_used == 150  # type: ignore[attr-defined]


async def test_a_new_process_finds_the_parent_model_call_in_storage(
    events: EventLog, recorder: TraceRecorder
) -> None:
    chat_id = await add_chat(events.db)
    async with recorder.span(
        chat_id=chat_id, turn=3, kind="llm", name="m", input=None, session_id="run-p"
    ) as llm:
        pass
    fresh = TraceRecorder(TraceStore(events.db, events))  # as after a restart: nothing cached
    async with fresh.span(
        chat_id=chat_id, turn=3, kind="tool", name="grep", input={}, session_id="run-p"
    ) as tool:
        pass
    assert (await _row(events, tool.trace_id or 0)).parent_id == llm.trace_id


async def test_how_a_call_ends_is_recorded(events: EventLog, recorder: TraceRecorder) -> None:
    chat_id = await add_chat(events.db)
    common = {"chat_id": chat_id, "turn": 1, "kind": "tool", "input": {}, "session_id": "run-2"}

    async with recorder.span(name="run_command", **common) as timed_out:  # type: ignore[arg-type]
        timed_out.outcome, timed_out.error = "timeout", "timed out after 1 s"
    with pytest.raises(RuntimeError, match="disk on fire"):
        async with recorder.span(name="write_file", **common) as failed:  # type: ignore[arg-type]
            raise RuntimeError("disk on fire")

    async def long_call() -> None:
        async with recorder.span(name="grep", **common) as span:  # type: ignore[arg-type]
            cancelled.append(span.trace_id or 0)
            await asyncio.sleep(30)

    cancelled: list[int] = []
    task = asyncio.ensure_future(long_call())
    while not cancelled:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    rows = [await _row(events, i or 0) for i in (timed_out.trace_id, failed.trace_id, cancelled[0])]
    assert [row.outcome for row in rows] == ["timeout", "error", "cancelled"]
    assert rows[0].error == "timed out after 1 s"
    assert rows[1].error == "RuntimeError: disk on fire"
    assert all(row.finished_at is not None and row.latency_ms is not None for row in rows)


async def test_frames_and_listings_cap_large_values_the_trace_has_them_whole(
    events: EventLog, recorder: TraceRecorder
) -> None:
    chat_id = await add_chat(events.db)
    frames = events.bus.subscribe(chat_id)
    big_input = {"content": "x" * 5000}
    big_output = "line\n" * 2000
    async with recorder.span(
        chat_id=chat_id,
        turn=1,
        kind="tool",
        name="write_file",
        input=big_input,
        session_id="run-3",
    ) as span:
        span.output = big_output
    start, finish = frames.queue.get_nowait(), frames.queue.get_nowait()
    for frame in (start, finish):
        assert frame.trace.truncated  # type: ignore[attr-defined]
        assert len(frame.trace.input) <= PREVIEW_CHARS + 1  # type: ignore[attr-defined]
    assert len(finish.trace.output) == PREVIEW_CHARS + 1  # type: ignore[attr-defined]

    from boocode.contracts.traces import TraceQuery

    listed = (await query.list_traces(events.db, chat_id, TraceQuery())).items[0]
    assert listed.truncated and len(listed.output or "") == PREVIEW_CHARS + 1
    whole = await query.get_trace(events.db, chat_id, span.trace_id or 0)
    assert whole.input == big_input and whole.output == big_output and not whole.truncated


async def test_a_call_already_marked_interrupted_keeps_that_verdict(
    events: EventLog, recorder: TraceRecorder
) -> None:
    chat_id = await add_chat(events.db)
    store = recorder.store
    from boocode.contracts.traces import TraceKind
    from boocode.traces.store import NewCall

    row = await store.start(NewCall(chat_id, "run-4", 1, TraceKind.TOOL, "grep", {}))
    interrupted = await store.finish(row, CallEnd(TraceOutcome.INTERRUPTED, 0.0))
    assert interrupted is not None
    with pytest.raises(InvalidOutcome):
        await store.finish(row, CallEnd(TraceOutcome.OK, 1.0))
    row.outcome = TraceOutcome.RUNNING.value  # another process's stale view of the row
    assert await store.finish(row, CallEnd(TraceOutcome.OK, 1.0)) is None
    assert (await _row(events, row.id)).outcome == "interrupted"


def test_only_a_running_call_ends_and_only_once() -> None:
    check_finish(TraceOutcome.RUNNING, TraceOutcome.OK)
    with pytest.raises(InvalidOutcome):
        check_finish(TraceOutcome.OK, TraceOutcome.ERROR)
    with pytest.raises(InvalidOutcome):
        check_finish(TraceOutcome.RUNNING, TraceOutcome.RUNNING)
