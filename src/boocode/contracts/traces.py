"""Traces as they cross a boundary: the REST bodies and the two live frames.

A trace is one timed call: a model call (`kind` llm) or a tool call (`kind` tool / autofix).
Frames and listings cap `input`, `output` and `error` (see `PREVIEW_CHARS`) and say so with
`truncated`; `GET /api/chats/{id}/traces/{trace_id}` returns them in full.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from boocode.contracts.base import INT32_MAX, FrameBase

# Frames and listings carry at most this many characters of a call's input, output and error.
PREVIEW_CHARS = 2048
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
CURSOR_PATTERN = r"^[1-9][0-9]{0,17}$"  # a trace id, below 2**63
_CURSOR = re.compile(CURSOR_PATTERN)


class TraceKind(StrEnum):
    LLM = "llm"
    TOOL = "tool"
    AUTOFIX = "autofix"


class TraceOutcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


class TraceOut(BaseModel):
    """One call; `tool_name` is the tool, or the model's name for a model call."""

    id: int
    chat_id: str
    session_id: str
    turn: int
    branch_id: int = Field(default=0, description="the branch the chat was on when the call began")
    kind: TraceKind
    parent_id: int | None = None
    tool_name: str
    input: Any = None
    output: str | None = None
    error: str | None = None
    extra: Any = Field(
        default=None,
        description="what the call returned besides `output`: a model call's reasoning and "
        "tool calls, a tool's metadata",
    )
    outcome: TraceOutcome
    started_at: datetime
    finished_at: datetime | None = None
    latency_ms: float | None = None
    tokens_used: int | None = Field(default=None, description="prompt + completion tokens")
    cache_tokens: int | None = Field(default=None, description="prompt tokens read from cache")
    cache_miss_tokens: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    truncated: bool = Field(
        default=False, description="input, output or error was capped; fetch the trace for all"
    )


class TracePage(BaseModel):
    """Newest first; pass `next_cursor` back as `?cursor=` for the next (older) page."""

    items: list[TraceOut]
    next_cursor: str | None = None


class TraceQuery(BaseModel):
    """The query string of `GET /api/chats/{id}/traces`; an unknown parameter is refused."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, json_schema_extra={"pattern": CURSOR_PATTERN})
    turn: int | None = Field(default=None, ge=0, le=INT32_MAX)
    branch: int | None = Field(
        default=None,
        ge=0,
        le=INT32_MAX,
        description="only the calls of the turns on this branch (copied ones too)",
    )
    kind: TraceKind | None = None
    tool_name: str | None = Field(default=None, min_length=1, max_length=100)
    outcome: TraceOutcome | None = None

    @field_validator("cursor")
    @classmethod
    def _cursor_from_a_page(cls, cursor: str | None) -> str | None:
        if cursor is not None and not _CURSOR.fullmatch(cursor):
            raise ValueError("cursor must be the next_cursor of an earlier page")
        return cursor


class ToolTraceStartFrame(FrameBase):
    """A call began (its `outcome` is `running`); sent for model calls and tool calls alike."""

    type: Literal["tool_trace_start"] = "tool_trace_start"
    trace: TraceOut


class ToolTraceFinishFrame(FrameBase):
    """A call ended, with its latency, tokens and outcome."""

    type: Literal["tool_trace_finish"] = "tool_trace_finish"
    trace: TraceOut
