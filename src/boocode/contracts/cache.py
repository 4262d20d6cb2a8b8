"""Prompt-cache telemetry as it crosses a boundary: `GET /api/chats/{id}/cache-stats`.

Each model call's request is recorded as segments in prompt order (system prompt, tool schemas,
then the conversation), each with its size in bytes and a hash. The provider reports only how
many prompt tokens it served from cache, so the cached part drawn over the segments is an
estimate (`cached_bytes`): the same share of the request's bytes, from its start.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class SegmentKind(StrEnum):
    SYSTEM = "system"
    TOOLS = "tools"
    HISTORY = "history"  # earlier turns
    TURN = "turn"  # this turn's messages so far
    ATTACHMENT = "attachment"
    NOTE = "note"  # injected for the model: auto-fix results, notifications


class CacheStatus(StrEnum):
    COLD = "cold"  # the conversation's first call: nothing to reuse yet
    INTACT = "intact"  # the previous request is a byte-identical prefix of this one
    DIVERGED = "diverged"  # this request stopped matching the previous one somewhere
    EXPIRED = "expired"  # intact on our side, yet the provider served less from cache


class CacheDiagnosis(BaseModel):
    status: CacheStatus
    broke: bool = Field(description="the share served from cache dropped against the call before")
    message: str
    segment_index: int | None = Field(default=None, description="the first segment that changed")
    segment_kind: SegmentKind | None = None
    segment_label: str | None = None
    byte_offset: int | None = Field(
        default=None, description="where this request stopped matching the previous one"
    )


class CacheSegmentOut(BaseModel):
    """Consecutive segments of one kind, merged for display."""

    kind: SegmentKind
    label: str
    bytes: int
    count: int = 1


class CacheCallOut(BaseModel):
    trace_id: int | None = None
    turn: int
    conversation: str = Field(description="`main` for the chat's own turns")
    step_key: str
    model: str
    created_at: datetime
    prompt_tokens: int
    cache_hit_tokens: int
    cache_miss_tokens: int
    hit_rate: float
    request_bytes: int
    cached_bytes: int = Field(description="estimated: the hit share of the request's bytes")
    segments: list[CacheSegmentOut]
    diagnosis: CacheDiagnosis


class CacheTotals(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    hit_rate: float = 0.0
    saved_usd: float = Field(default=0.0, description="what the cache hits saved at `prices`")
    prompt_cost_usd: float = 0.0


class CacheTurnOut(BaseModel):
    turn: int
    calls: int
    prompt_tokens: int
    cache_hit_tokens: int
    hit_rate: float
    breaks: int = 0


class CacheConversationOut(BaseModel):
    conversation: str
    totals: CacheTotals


class CachePrices(BaseModel):
    """USD per million prompt tokens (`BOOCODE_CACHE_HIT_PRICE`, `BOOCODE_CACHE_MISS_PRICE`)."""

    hit_usd_per_million: float
    miss_usd_per_million: float


class CacheStats(BaseModel):
    chat_id: str
    prices: CachePrices
    total: CacheTotals
    conversations: list[CacheConversationOut]
    turns: list[CacheTurnOut]
    calls: list[CacheCallOut] = Field(description="oldest first")
