"""A chat's cache figures: per call (with its segments), per turn, per conversation, in total."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from boocode.config import Settings
from boocode.contracts.cache import (
    CacheCallOut,
    CacheConversationOut,
    CacheDiagnosis,
    CachePrices,
    CacheSegmentOut,
    CacheStats,
    CacheTotals,
    CacheTurnOut,
    SegmentKind,
)
from boocode.db.engine import Database
from boocode.db.tables import CacheShape, Chat


class ChatNotFound(LookupError):
    pass


async def cache_stats(db: Database, settings: Settings, chat_id: str) -> CacheStats:
    """The chat's calls, and those of the agents it started (subagents, workflow agents, and
    theirs): each agent a conversation named by its label, all of them in the total. Turns are
    the chat's own."""
    prices = CachePrices(
        hit_usd_per_million=settings.cache_hit_price,
        miss_usd_per_million=settings.cache_miss_price,
    )
    async with db.session() as session:
        if await session.get(Chat, chat_id) is None:
            raise ChatNotFound(f"chat {chat_id} does not exist")
        names = await _agent_conversations(session, chat_id)
        rows = list(
            (
                await session.execute(
                    select(CacheShape)
                    .where(CacheShape.chat_id.in_([chat_id, *names]))
                    .order_by(CacheShape.id)
                )
            ).scalars()
        )
    calls = [_call(row, names.get(row.chat_id)) for row in rows]
    conversations: dict[str, list[CacheCallOut]] = {}
    turns: dict[int, list[CacheCallOut]] = {}
    for call, row in zip(calls, rows, strict=True):
        conversations.setdefault(call.conversation, []).append(call)
        if row.chat_id == chat_id:
            turns.setdefault(call.turn, []).append(call)
    return CacheStats(
        chat_id=chat_id,
        prices=prices,
        total=totals(calls, prices),
        conversations=[
            CacheConversationOut(conversation=name, totals=totals(group, prices))
            for name, group in conversations.items()
        ],
        turns=[_turn(turn, group) for turn, group in sorted(turns.items())],
        calls=calls,
    )


def totals(calls: Iterable[CacheCallOut], prices: CachePrices) -> CacheTotals:
    calls = list(calls)
    prompt = sum(call.prompt_tokens for call in calls)
    hit = sum(call.cache_hit_tokens for call in calls)
    miss = sum(call.cache_miss_tokens for call in calls)
    per_token_saving = (prices.miss_usd_per_million - prices.hit_usd_per_million) / 1e6
    return CacheTotals(
        calls=len(calls),
        prompt_tokens=prompt,
        cache_hit_tokens=hit,
        cache_miss_tokens=miss,
        hit_rate=_rate(hit, prompt),
        saved_usd=hit * per_token_saving,
        prompt_cost_usd=(hit * prices.hit_usd_per_million + miss * prices.miss_usd_per_million)
        / 1e6,
    )


def summary_line(stats: CacheStats, turn: int) -> str:
    """One line for the end of `boocode run`: the turn's hit rate, then the chat's."""
    total = stats.total
    this = next((t for t in stats.turns if t.turn == turn), None)
    turn_part = (
        f"turn {turn} {this.hit_rate:.0%} of {this.prompt_tokens} prompt tokens from cache"
        if this is not None
        else f"turn {turn} made no model call"
    )
    breaks = sum(1 for call in stats.calls if call.diagnosis.broke)
    return (
        f"[cache: {turn_part}; chat {total.hit_rate:.0%} over {total.calls} calls, "
        f"{breaks} {'break' if breaks == 1 else 'breaks'}, saved ${total.saved_usd:.4f}]"
    )


async def cache_summary_line(db: Database, settings: Settings, chat_id: str, turn: int) -> str:
    return summary_line(await cache_stats(db, settings, chat_id), turn)


async def _agent_conversations(session: AsyncSession, chat_id: str) -> dict[str, str]:
    """The conversations of the agents the chat started, nested ones too, by id: their names.

    A name is the agent's label and the start of its id (two helpers may share a label)."""
    names: dict[str, str] = {}
    parents = [chat_id]
    while parents:
        children = (
            await session.execute(
                select(Chat.id, Chat.title).where(Chat.parent_chat_id.in_(parents))
            )
        ).all()
        new = {child: f"{title} · {child[:12]}" for child, title in children if child not in names}
        names.update(new)
        parents = list(new)
    return names


def _call(row: CacheShape, agent: str | None = None) -> CacheCallOut:
    return CacheCallOut(
        trace_id=row.trace_id,
        turn=row.turn_number,
        conversation=agent or row.conversation,
        step_key=row.step_key,
        model=row.model,
        created_at=row.created_at,
        prompt_tokens=row.prompt_tokens,
        cache_hit_tokens=row.cache_hit_tokens,
        cache_miss_tokens=row.cache_miss_tokens,
        hit_rate=_rate(row.cache_hit_tokens, row.prompt_tokens),
        request_bytes=row.request_bytes,
        cached_bytes=round(row.request_bytes * _rate(row.cache_hit_tokens, row.prompt_tokens)),
        segments=merged_segments(row.segments),
        diagnosis=CacheDiagnosis.model_validate(row.diagnosis),
    )


def merged_segments(records: list[dict[str, Any]]) -> list[CacheSegmentOut]:
    """Runs of one kind merged (all earlier turns become one bar segment); attachments apart.

    Takes a call's recorded segments, or segments merged before (which carry a `count`).
    """
    return [CacheSegmentOut.model_validate(record) for record in merged_records(records)]


def merged_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`merged_segments` as stored: plain JSON objects, built without models (it runs on every
    model call, over every segment of the request before)."""
    merged: list[dict[str, Any]] = []
    attachment = SegmentKind.ATTACHMENT.value
    for record in records:
        kind = record["kind"]
        count = record.get("count", 1)
        last = merged[-1] if merged else None
        if last is not None and last["kind"] == kind and kind != attachment:
            last["bytes"] += record["bytes"]
            last["count"] += count
            last["runs"] += 1
        else:
            merged.append(
                {
                    "kind": kind,
                    "label": record["label"],
                    "bytes": record["bytes"],
                    "count": count,
                    "runs": 1,
                }
            )
    for entry in merged:  # a run of several records is named by its kind and length
        if entry.pop("runs") > 1:
            entry["label"] = _run_label(SegmentKind(entry["kind"]), entry["count"])
    return merged


def _run_label(kind: SegmentKind, count: int) -> str:
    names = {
        SegmentKind.HISTORY: "earlier turns",
        SegmentKind.TURN: "this turn",
        SegmentKind.NOTE: "injected notes",
    }
    return f"{names.get(kind, kind.value)} ({count} messages)"


def _turn(turn: int, calls: list[CacheCallOut]) -> CacheTurnOut:
    prompt = sum(call.prompt_tokens for call in calls)
    hit = sum(call.cache_hit_tokens for call in calls)
    return CacheTurnOut(
        turn=turn,
        calls=len(calls),
        prompt_tokens=prompt,
        cache_hit_tokens=hit,
        hit_rate=_rate(hit, prompt),
        breaks=sum(1 for call in calls if call.diagnosis.broke),
    )


def _rate(part: int, whole: int) -> float:
    return min(part / whole, 1.0) if whole > 0 else 0.0
