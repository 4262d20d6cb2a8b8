"""Trace rows: a start row when a call begins, completed when it ends, each announced by a frame."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from boocode.contracts.traces import (
    ToolTraceFinishFrame,
    ToolTraceStartFrame,
    TraceKind,
    TraceOut,
    TraceOutcome,
)
from boocode.contracts.usage import TokenUsage
from boocode.db.engine import Database
from boocode.db.tables import Chat, ToolTrace
from boocode.events.log import EventLog
from boocode.traces.outcome import check_finish
from boocode.traces.view import trace_out

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewCall:
    """What is known of a call when it begins."""

    chat_id: str
    session_id: str
    turn: int
    kind: TraceKind
    name: str
    input: Any
    parent_id: int | None = None
    step_key: str | None = None


@dataclass(frozen=True)
class CallEnd:
    """How a call ended; `latency_ms` comes from the monotonic clock."""

    outcome: TraceOutcome
    latency_ms: float
    output: str | None = None
    error: str | None = None
    usage: TokenUsage | None = None
    extra: dict[str, Any] | None = None


_USAGE_COLUMNS = (
    "tokens_used",
    "cache_tokens",
    "cache_miss_tokens",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
)
# Built once: constructing a statement costs more than SQLite takes to run it.
# A call belongs to the branch its chat is on when it begins.
_INSERT_TRACE = (
    insert(ToolTrace)
    .values(
        branch_id=select(Chat.branch_id)
        .where(Chat.id == bindparam("branch_of_chat"))
        .scalar_subquery()
    )
    .returning(ToolTrace.id, ToolTrace.branch_id)
)
_FINISH_TRACE = update(ToolTrace).where(
    ToolTrace.id == bindparam("running_trace_id"),
    ToolTrace.outcome == TraceOutcome.RUNNING.value,
)


class TraceStore:
    def __init__(self, db: Database, events: EventLog) -> None:
        self.db = db
        self.events = events

    async def start(self, call: NewCall) -> ToolTrace:
        """Write the start row (outcome `running`) and publish `tool_trace_start`."""
        values = {
            "chat_id": call.chat_id,
            "session_id": call.session_id,
            "turn_number": call.turn,
            "kind": call.kind.value,
            "parent_id": call.parent_id,
            "step_key": call.step_key,
            "tool_name": call.name[:100],
            "input": call.input,
            "started_at": datetime.now(UTC),
            "outcome": TraceOutcome.RUNNING.value,
        }
        row = ToolTrace(**values)

        def write(conn: Connection) -> ToolTraceStartFrame:
            row.id, row.branch_id = conn.execute(
                _INSERT_TRACE, {**values, "branch_of_chat": call.chat_id}
            ).one()
            return ToolTraceStartFrame(chat_id=call.chat_id, trace=trace_out(row))

        await self.events.publish_with(call.chat_id, write)
        return row

    async def finish(self, row: ToolTrace, end: CallEnd) -> TraceOut | None:
        """Complete the row and publish `tool_trace_finish`; None if it had already ended."""
        check_finish(TraceOutcome(row.outcome or TraceOutcome.RUNNING), end.outcome)
        values: dict[str, Any] = {
            "finished_at": datetime.now(UTC),
            "latency_ms": end.latency_ms,
            "output": end.output,
            "error": end.error,
            "extra": end.extra or None,
            "outcome": end.outcome.value,
            **_usage_columns(end.usage),
        }

        def write(conn: Connection) -> ToolTraceFinishFrame | None:
            result = conn.execute(_FINISH_TRACE, {**values, "running_trace_id": row.id})
            if result.rowcount == 0:
                return None
            for name, value in values.items():
                setattr(row, name, value)
            return ToolTraceFinishFrame(chat_id=row.chat_id, trace=trace_out(row))

        frame = await self.events.publish_with(row.chat_id, write)
        if frame is None:
            # Recovery in another process judged this run dead; its verdict stands.
            log.warning("trace %s had already ended; %s not recorded", row.id, end.outcome)
            return None
        return frame.trace


def _usage_columns(usage: TokenUsage | None) -> dict[str, int | None]:
    if usage is None:
        return dict.fromkeys(_USAGE_COLUMNS)
    return {
        "tokens_used": usage.total_tokens,
        "cache_tokens": usage.cache_hit_tokens,
        "cache_miss_tokens": usage.cache_miss_tokens,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
