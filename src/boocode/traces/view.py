"""A stored trace row as clients see it: capped for frames and listings, whole on request."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from boocode.contracts.traces import PREVIEW_CHARS, TraceKind, TraceOut, TraceOutcome
from boocode.db.tables import ToolTrace

_ELLIPSIS = "…"


def trace_out(row: ToolTrace, *, full: bool = False) -> TraceOut:
    """The row as a `TraceOut`; unless `full`, long input, output and error are capped."""
    input_value, output, error, extra = row.input, row.output, row.error, row.extra
    truncated = False
    if not full:
        input_value, cut_input = _cap_json(input_value)
        output, cut_output = _cap_text(output)
        error, cut_error = _cap_text(error)
        extra, cut_extra = _cap_json(extra)
        truncated = cut_input or cut_output or cut_error or cut_extra
    return TraceOut(
        id=row.id,
        chat_id=row.chat_id,
        session_id=row.session_id,
        turn=row.turn_number,
        branch_id=row.branch_id or 0,
        kind=TraceKind(row.kind),
        parent_id=row.parent_id,
        tool_name=row.tool_name,
        input=input_value,
        output=output,
        error=error,
        extra=extra,
        outcome=TraceOutcome(row.outcome or TraceOutcome.RUNNING),
        started_at=_utc(row.started_at),
        finished_at=_utc(row.finished_at) if row.finished_at else None,
        latency_ms=row.latency_ms,
        tokens_used=row.tokens_used,
        cache_tokens=row.cache_tokens,
        cache_miss_tokens=row.cache_miss_tokens,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        reasoning_tokens=row.reasoning_tokens,
        truncated=truncated,
    )


def _cap_text(text: str | None) -> tuple[str | None, bool]:
    if text is None or len(text) <= PREVIEW_CHARS:
        return text, False
    return text[:PREVIEW_CHARS] + _ELLIPSIS, True


def _cap_json(value: Any) -> tuple[Any, bool]:
    """Small values keep their shape; a large one becomes the start of its JSON text."""
    if value is None or isinstance(value, int | float | bool):
        return value, False
    if isinstance(value, str):
        return _cap_text(value)
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= PREVIEW_CHARS:
        return value, False
    return text[:PREVIEW_CHARS] + _ELLIPSIS, True


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
