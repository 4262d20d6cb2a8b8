"""The seam through which every model call and tool call is timed and recorded.

The turn loop never calls the model or a tool except inside `CallTracer.span`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from boocode.contracts.usage import TokenUsage

CallKind = Literal["llm", "tool", "autofix"]


@dataclass
class Span:
    """A call in progress; the caller fills in how it ended."""

    chat_id: str
    turn: int
    kind: CallKind
    name: str
    input: Any
    session_id: str
    parent_id: int | None = None
    trace_id: int | None = None
    output: str | None = None
    error: str | None = None
    outcome: str = "ok"
    usage: TokenUsage | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CallTracer(Protocol):
    def span(
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
    ) -> Any: ...


class UntracedCalls:
    """Times nothing and stores nothing: for runs with tracing switched off."""

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
        yield Span(chat_id, turn, kind, name, input, session_id, parent_id)
