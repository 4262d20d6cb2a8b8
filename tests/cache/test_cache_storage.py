"""Request shapes and attachments stored on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from boocode.attachments import Attachments, AttachmentTooLarge
from boocode.cache import ModelRequest, cache_stats, record_model_call
from boocode.cache.segments import Segment
from boocode.config import Settings
from boocode.contracts.cache import SegmentKind
from boocode.contracts.usage import TokenUsage
from boocode.db.chats import insert_chat
from boocode.db.engine import Database
from boocode.db.tables import CacheSegment, CacheShape
from support.images import png


@pytest.fixture
async def settings_and_db(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Settings, Database]]:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        attachment_chat_max_bytes=2000,
    )
    db = Database(settings.resolved_database_url)
    await db.upgrade()
    yield settings, db
    await db.dispose()


def request(chat_id: str, turn: int, system: str, *messages: str) -> ModelRequest:
    segments = [
        Segment(SegmentKind.SYSTEM, "system prompt", system.encode()),
        Segment(SegmentKind.TOOLS, "tool schemas (0)", b"[]"),
        *(Segment(SegmentKind.TURN, f"user · turn {turn}", m.encode()) for m in messages),
    ]
    return ModelRequest(chat_id, turn, "fake-model", [], [], segments)


def usage(prompt: int, hit: int) -> TokenUsage:
    return TokenUsage(prompt_tokens=prompt, cache_hit_tokens=hit, cache_miss_tokens=prompt - hit)


async def test_each_call_is_recorded_once_and_compared_with_the_one_before(
    settings_and_db: tuple[Settings, Database],
) -> None:
    settings, db = settings_and_db
    chat = await insert_chat(db, workspace="/w", model="fake-model", title="cache")
    await record_model_call(
        db, request(chat.id, 1, "be good", "hi"), usage(10, 0), step_key="t1-llm0", trace_id=7
    )
    again = request(chat.id, 1, "be good", "hi")
    await record_model_call(db, again, usage(10, 0), step_key="t1-llm0", trace_id=7)
    await record_model_call(
        db,
        request(chat.id, 2, "be good", "hi", "more"),
        usage(12, 10),
        step_key="t2-llm0",
        trace_id=8,
    )
    changed = request(chat.id, 3, "be kind", "hi", "more", "last")
    await record_model_call(db, changed, usage(14, 1), step_key="t3-llm0", trace_id=9)

    stats = await cache_stats(db, settings, chat.id)
    statuses = [(c.trace_id, c.diagnosis.status.value, c.diagnosis.broke) for c in stats.calls]
    assert statuses == [(7, "cold", False), (8, "intact", False), (9, "diverged", True)]
    diverged = stats.calls[2].diagnosis
    # "be good" and "be kind" share their first 3 bytes.
    assert (diverged.segment_index, diverged.byte_offset) == (0, 3)
    assert stats.total.cache_hit_tokens == 11 and stats.total.prompt_tokens == 36
    assert [t.hit_rate for t in stats.turns] == [0.0, 10 / 12, 1 / 14]
    hashes = {s.hash for s in changed.segments} | {s.hash for s in again.segments}
    async with db.session() as session:
        shapes = (
            await session.execute(
                select(func.count()).select_from(CacheShape).where(CacheShape.chat_id == chat.id)
            )
        ).scalar()
        bodies = (
            await session.execute(
                select(func.count()).select_from(CacheSegment).where(CacheSegment.hash.in_(hashes))
            )
        ).scalar()
        kept = (
            await session.execute(
                select(CacheShape.segments)
                .where(CacheShape.chat_id == chat.id)
                .order_by(CacheShape.id)
            )
        ).scalars()
        first_kept, _, last_kept = list(kept)
    # Three calls recorded; bodies kept once by hash: two system prompts, the tools, 3 messages.
    assert (shapes, bodies) == (3, 6)
    # Only the latest call keeps its segment hashes (the next call is compared with it); older
    # rows keep the merged segments that are shown.
    assert first_kept == [
        {"kind": "system", "label": "system prompt", "bytes": 7, "count": 1},
        {"kind": "tools", "label": "tool schemas (0)", "bytes": 2, "count": 1},
        {"kind": "turn", "label": "user · turn 1", "bytes": 2, "count": 1},
    ]
    assert [record["hash"] for record in last_kept] == [s.hash for s in changed.segments]
    assert [(s.kind.value, s.bytes, s.count) for s in stats.calls[1].segments] == [
        ("system", 7, 1),
        ("tools", 2, 1),
        ("turn", 6, 2),
    ]


async def test_uploads_count_against_the_chat_limit(
    settings_and_db: tuple[Settings, Database],
) -> None:
    settings, db = settings_and_db
    chat = await insert_chat(db, workspace="/w", model="fake-model", title="files")
    attachments = Attachments(db, settings)
    image = png(4, 4)
    first = await attachments.upload(chat.id, "a.png", image)
    records = await attachments.for_message(chat.id, [first.id], model_name="gpt-4o", is_demo=False)
    assert records[0]["sha256"] == first.sha256 and records[0]["width"] == 4
    with pytest.raises(AttachmentTooLarge, match="limit per chat"):
        await attachments.upload(chat.id, "big.txt", b"x" * (2000 - len(image) + 1))
    assert (await attachments.content(chat.id, first.id)).data == image
