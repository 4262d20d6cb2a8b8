"""Optional OpenTelemetry export of the same calls, following the GenAI semantic conventions.

Switched on by `BOOCODE_OTLP_ENDPOINT` (an OTLP/HTTP base URL such as http://localhost:4318).
Each run (a turn's agent session) is one OpenTelemetry trace: an `invoke_agent` span sent
when the turn ends, its model calls (`chat`) beneath it and each tool call (`execute_tool`)
beneath the model call that asked for it. Ids derive from BooCode's own ids, so spans sent by
different processes (a run resumed after a crash) still join up.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode
from sqlalchemy import func, select

from boocode.contracts.traces import TraceKind, TraceOut, TraceOutcome
from boocode.db.engine import Database
from boocode.db.tables import ToolTrace

log = logging.getLogger(__name__)

AGENT_NAME = "boocode"
_TRACES_PATH = "/v1/traces"
# The ids the next span gets; set just before the SDK asks for them.
_next_ids: ContextVar[tuple[int, int] | None] = ContextVar("boocode_otel_ids", default=None)


class OtlpExport:
    """Turns finished traces into OpenTelemetry spans and hands them to an exporter."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": AGENT_NAME}), id_generator=_DerivedIds()
        )
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("boocode.traces")

    @classmethod
    def to_endpoint(cls, endpoint: str) -> OtlpExport:
        """OTLP/HTTP (protobuf); headers come from OTEL_EXPORTER_OTLP_HEADERS as usual."""
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return cls(OTLPSpanExporter(endpoint=traces_url(endpoint)))

    def __call__(self, trace: TraceOut) -> None:
        """Send one finished call (a model call or a tool call)."""
        if trace.kind is TraceKind.LLM:
            name, kind = f"chat {trace.tool_name}", SpanKind.CLIENT
        else:
            name, kind = f"execute_tool {trace.tool_name}", SpanKind.INTERNAL
        # A tool call sits beneath the model call that asked for it, a model call beneath the run.
        parent_span = (
            _call_span_id(trace.parent_id)
            if trace.parent_id and trace.kind is not TraceKind.LLM
            else _agent_span_id(trace.session_id)
        )
        start = _ns(trace.started_at)
        end = start + int((trace.latency_ms or 0) * 1e6)
        self._emit(
            name,
            kind,
            trace_id=_trace_id(trace.session_id),
            span_id=_call_span_id(trace.id),
            parent_span_id=parent_span,
            start_ns=start,
            end_ns=end,
            attributes=call_attributes(trace),
            failure=None if trace.outcome is TraceOutcome.OK else trace,
        )

    def turn_end_hook(self, db: Database) -> Callable[[str, int], Awaitable[None]]:
        """A turn-end hook that sends each run of the turn as its `invoke_agent` span."""

        async def send_agent_spans(chat_id: str, turn: int) -> None:
            try:
                await self._send_agent_spans(db, chat_id, turn)
            except Exception:  # export must never break a turn
                log.warning("OTLP export of turn %s failed", turn, exc_info=True)

        return send_agent_spans

    def force_flush(self) -> bool:
        return self.provider.force_flush()

    def shutdown(self) -> None:
        self.provider.shutdown()

    async def _send_agent_spans(self, db: Database, chat_id: str, turn: int) -> None:
        async with db.session() as session:
            runs = (
                await session.execute(
                    select(
                        ToolTrace.session_id,
                        func.min(ToolTrace.started_at),
                        func.max(ToolTrace.finished_at),
                        func.sum(ToolTrace.prompt_tokens),
                        func.sum(ToolTrace.completion_tokens),
                    )
                    .where(ToolTrace.chat_id == chat_id, ToolTrace.turn_number == turn)
                    .group_by(ToolTrace.session_id)
                )
            ).all()
        for session_id, started, finished, prompt, completion in runs:
            start = _ns(started)
            self._emit(
                f"invoke_agent {AGENT_NAME}",
                SpanKind.INTERNAL,
                trace_id=_trace_id(session_id),
                span_id=_agent_span_id(session_id),
                parent_span_id=None,
                start_ns=start,
                end_ns=_ns(finished) if finished else start,
                attributes={
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": AGENT_NAME,
                    "gen_ai.agent.id": session_id,
                    "gen_ai.conversation.id": chat_id,
                    "gen_ai.usage.input_tokens": int(prompt or 0),
                    "gen_ai.usage.output_tokens": int(completion or 0),
                    "boocode.turn": turn,
                },
                failure=None,
            )

    def _emit(
        self,
        name: str,
        kind: SpanKind,
        *,
        trace_id: int,
        span_id: int,
        parent_span_id: int | None,
        start_ns: int,
        end_ns: int,
        attributes: dict[str, Any],
        failure: TraceOut | None,
    ) -> None:
        context = None
        if parent_span_id is not None:
            parent = SpanContext(
                trace_id, parent_span_id, is_remote=False, trace_flags=otel_trace.TraceFlags(1)
            )
            context = otel_trace.set_span_in_context(NonRecordingSpan(parent))
        token = _next_ids.set((trace_id, span_id))
        try:
            span = self.tracer.start_span(
                name, context=context, kind=kind, attributes=attributes, start_time=start_ns
            )
        finally:
            _next_ids.reset(token)
        if failure is not None:
            span.set_status(Status(StatusCode.ERROR, failure.error or failure.outcome.value))
        span.end(end_time=max(end_ns, start_ns))


def call_attributes(trace: TraceOut) -> dict[str, Any]:
    """GenAI semantic-convention attributes of one call, plus BooCode's own ids."""
    attributes: dict[str, Any] = {
        "gen_ai.conversation.id": trace.chat_id,
        "boocode.trace.id": trace.id,
        "boocode.session.id": trace.session_id,
        "boocode.turn": trace.turn,
        "boocode.outcome": trace.outcome.value,
    }
    if trace.kind is TraceKind.LLM:
        attributes |= {"gen_ai.operation.name": "chat", "gen_ai.request.model": trace.tool_name}
        usage = {
            "gen_ai.usage.input_tokens": trace.prompt_tokens,
            "gen_ai.usage.output_tokens": trace.completion_tokens,
            "gen_ai.usage.cache_read.input_tokens": trace.cache_tokens,
            "gen_ai.usage.reasoning.output_tokens": trace.reasoning_tokens,
        }
        attributes |= {key: value for key, value in usage.items() if value is not None}
    else:
        attributes |= {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": trace.tool_name,
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.arguments": _text(trace.input),
        }
        if trace.output is not None:
            attributes["gen_ai.tool.call.result"] = trace.output
    if trace.outcome is not TraceOutcome.OK:
        attributes["error.type"] = trace.outcome.value
    return attributes


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a base endpoint (as OTEL_EXPORTER_OTLP_ENDPOINT is read)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(_TRACES_PATH) else endpoint + _TRACES_PATH


class _DerivedIds(IdGenerator):
    """Hands out the ids set in `_next_ids`; random ones for any other span."""

    _random = RandomIdGenerator()

    def generate_trace_id(self) -> int:
        ids = _next_ids.get()
        return ids[0] if ids else self._random.generate_trace_id()

    def generate_span_id(self) -> int:
        ids = _next_ids.get()
        return ids[1] if ids else self._random.generate_span_id()


def _trace_id(session_id: str) -> int:
    return _digest(f"run:{session_id}", 16)


def _agent_span_id(session_id: str) -> int:
    return _digest(f"agent:{session_id}", 8)


def _call_span_id(trace_id: int) -> int:
    return _digest(f"call:{trace_id}", 8)


def _digest(text: str, size: int) -> int:
    # Never zero: an all-zero id is invalid in OpenTelemetry.
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:size], "big") or 1


def _ns(moment: datetime) -> int:
    # SQLite hands back naive datetimes; every stored time is UTC.
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
