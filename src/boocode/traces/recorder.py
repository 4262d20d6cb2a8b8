"""The real `CallTracer`: every model call and tool call becomes a timed, stored, streamed trace."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select

from boocode.agent.instrument import CallKind, Span
from boocode.contracts.traces import TraceKind, TraceOut, TraceOutcome
from boocode.db.tables import ToolTrace
from boocode.traces.store import CallEnd, NewCall, TraceStore

# Runs whose latest model call is remembered, so a tool call finds its parent without a query.
_REMEMBERED_RUNS = 1024

TraceExport = Callable[[TraceOut], None]


class TraceRecorder:
    """Wraps a call in a start row + frame and a finish row + frame, timed on the monotonic clock.

    A tool call's parent is the model call that asked for it: the run's latest model call in
    the same turn, unless the caller names one.
    """

    def __init__(self, store: TraceStore, *, export: TraceExport | None = None) -> None:
        self.store = store
        self.export = export
        self._last_llm: OrderedDict[tuple[str, int], int | None] = OrderedDict()

    @asynccontextmanager
    async def span(
        self,
        *,
        chat_id: str,
        turn: int,
        kind: CallKind,
        name: str,
        input: Any,
        session_id: str,
        parent_id: int | None = None,
        step_key: str | None = None,
    ) -> AsyncIterator[Span]:
        trace_kind = TraceKind(kind)
        if parent_id is None and trace_kind is not TraceKind.LLM:
            parent_id = await self._latest_llm(session_id, turn)
        row = await self.store.start(
            NewCall(chat_id, session_id, turn, trace_kind, name, input, parent_id, step_key)
        )
        if trace_kind is TraceKind.LLM:
            self._remember_llm(session_id, turn, row.id)
        span = Span(chat_id, turn, kind, name, input, session_id, parent_id, trace_id=row.id)
        started = time.perf_counter_ns()
        try:
            yield span
        except asyncio.CancelledError:
            # Shielded: a second cancellation must not leave the row running.
            await asyncio.shield(self._finish(row, span, started, TraceOutcome.CANCELLED))
            raise
        except BaseException as exc:
            span.error = span.error or f"{type(exc).__name__}: {exc}"
            await asyncio.shield(self._finish(row, span, started, TraceOutcome.ERROR))
            raise
        await self._finish(row, span, started, TraceOutcome(span.outcome))

    async def _finish(
        self, row: ToolTrace, span: Span, started_ns: int, outcome: TraceOutcome
    ) -> None:
        latency_ms = (time.perf_counter_ns() - started_ns) / 1e6
        end = CallEnd(outcome, latency_ms, span.output, span.error, span.usage, span.extra)
        trace = await self.store.finish(row, end)
        if trace is not None and self.export is not None:
            self.export(trace)

    def _remember_llm(self, session_id: str, turn: int, trace_id: int | None) -> None:
        self._last_llm[(session_id, turn)] = trace_id
        self._last_llm.move_to_end((session_id, turn))
        while len(self._last_llm) > _REMEMBERED_RUNS:
            self._last_llm.popitem(last=False)

    async def _latest_llm(self, session_id: str, turn: int) -> int | None:
        key = (session_id, turn)
        if key in self._last_llm:
            return self._last_llm[key]
        # A run resumed in a new process: its model call was traced before the restart.
        async with self.store.db.session() as session:
            latest = (
                await session.execute(
                    select(func.max(ToolTrace.id)).where(
                        ToolTrace.session_id == session_id,
                        ToolTrace.turn_number == turn,
                        ToolTrace.kind == TraceKind.LLM.value,
                    )
                )
            ).scalar()
        self._remember_llm(session_id, turn, latest)
        return latest
