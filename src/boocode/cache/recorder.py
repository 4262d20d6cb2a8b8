"""Store the shape of each model call beside its usage, and why its cache share changed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from boocode.cache.diagnosis import diagnose
from boocode.cache.request import ModelRequest, RecordedCall
from boocode.cache.stats import merged_records
from boocode.contracts.usage import TokenUsage
from boocode.db.engine import Database
from boocode.db.tables import CacheSegment, CacheShape

log = logging.getLogger(__name__)

# Attachment parts larger than this are not kept for the byte-level comparison (images).
_KEPT_ATTACHMENT_BYTES = 256 * 1024


async def record_model_call(
    db: Database,
    request: ModelRequest,
    usage: TokenUsage,
    *,
    step_key: str,
    trace_id: int | None,
) -> None:
    """Record the call once (a step re-run after a crash finds its row and leaves it).

    Telemetry never fails a turn: a storage error is logged and the call goes unrecorded.
    """
    dialect = db.engine.dialect.name
    history = request.history
    records = [segment.record() for segment in request.segments]

    def work(conn: Connection) -> RecordedCall | None:
        if conn.execute(_RECORDED, {"chat": request.chat_id, "step_key": step_key}).first():
            return None
        # The run's previous call, as it recorded it; its first call reads the chat's latest.
        previous = history.last_call if history is not None else None
        if previous is None:
            latest = conn.execute(
                _LATEST, {"chat": request.chat_id, "conversation": request.conversation}
            ).first()
            if latest is not None:
                previous = RecordedCall(latest.segments, latest.prompt_tokens, latest.id)

        def previous_body(record: dict[str, Any]) -> bytes | None:
            if "hash" not in record:
                return None
            body = conn.execute(_SEGMENT_BODY, {"segment": record["hash"]}).scalar()
            return body.encode() if body is not None else None

        diagnosis = diagnose(
            previous,
            request.segments,
            prompt_tokens=usage.prompt_tokens,
            hit_tokens=usage.cache_hit_tokens,
            previous_body=previous_body,
            provider_caches=request.provider_caches,
        )
        known = {str(record.get("hash")) for record in previous.segments} if previous else set()
        _keep_bodies(conn, dialect, request, known)
        if previous is not None:
            # Only the latest call's segments are compared with; older rows keep what is shown.
            shown = merged_records(previous.segments)
            conn.execute(_SHOW_SEGMENTS, {"shape": previous.shape_id, "segments": shown})
        shape_id = conn.execute(
            _INSERT_SHAPE,
            {
                "chat_id": request.chat_id,
                "conversation": request.conversation,
                "turn_number": request.turn,
                "step_key": step_key,
                "trace_id": trace_id,
                "model": request.model,
                "segments": records,
                "request_bytes": request.size,
                "prompt_tokens": usage.prompt_tokens,
                "cache_hit_tokens": usage.cache_hit_tokens,
                "cache_miss_tokens": usage.cache_miss_tokens,
                "diagnosis": diagnosis.model_dump(mode="json"),
                "created_at": datetime.now(UTC),
            },
        ).scalar_one()
        return RecordedCall(records, usage.prompt_tokens, shape_id)

    try:
        recorded = await db.transact(work)
    except SQLAlchemyError:
        log.warning(
            "the cache shape of %s in chat %s was not recorded",
            step_key,
            request.chat_id,
            exc_info=True,
        )
        return
    if history is not None and recorded is not None:
        history.last_call = recorded


# Built once: constructing a statement costs more than SQLite takes to run it.
_RECORDED = select(CacheShape.id).where(
    CacheShape.chat_id == bindparam("chat"), CacheShape.step_key == bindparam("step_key")
)
_LATEST = (
    select(CacheShape.id, CacheShape.segments, CacheShape.prompt_tokens)
    .where(
        CacheShape.chat_id == bindparam("chat"),
        CacheShape.conversation == bindparam("conversation"),
    )
    .order_by(CacheShape.id.desc())
    .limit(1)
)
_SEGMENT_BODY = select(CacheSegment.body).where(CacheSegment.hash == bindparam("segment"))
_SHOW_SEGMENTS = (
    update(CacheShape)
    .where(CacheShape.id == bindparam("shape"))
    .values(segments=bindparam("segments"))
)
_INSERT_SHAPE = insert(CacheShape).returning(CacheShape.id)


def _keep_bodies(conn: Connection, dialect: str, request: ModelRequest, known: set[str]) -> None:
    """Each new segment's bytes, once by hash, for comparing a later request with this one."""
    fresh = {
        segment.hash: segment.body.decode()
        for segment in request.segments
        if segment.hash not in known
        and (segment.attachment_id is None or segment.size <= _KEPT_ATTACHMENT_BYTES)
    }
    if not fresh:
        return
    bodies = [{"hash": key, "body": body} for key, body in fresh.items()]
    conn.execute(_KEEP_BODIES[dialect], bodies)


# The two dialects' `insert` differ only by import; the statement is built the same way.
_KEEP_BODIES = {
    dialect: upsert(CacheSegment).on_conflict_do_nothing(index_elements=["hash"])
    for dialect, upsert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
