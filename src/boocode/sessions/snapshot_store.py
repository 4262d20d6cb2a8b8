"""The stored snapshot of each chat: `save`, `load`, `delete`, one row per chat.

`save` folds only what happened since the stored snapshot (messages and file writes with a
higher id) into it, so its cost does not grow with the length of the chat. A snapshot of an
older schema version still loads (upgraded on read); the next save rebuilds it in full once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Row, bindparam, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects import postgresql, sqlite

from boocode.contracts.chats import ToolCallOut, TurnStatus
from boocode.contracts.sessions import (
    SNAPSHOT_VERSION,
    AgentStatus,
    SessionSnapshot,
    TouchedFile,
)
from boocode.contracts.usage import TokenUsage
from boocode.db.engine import Database
from boocode.db.tables import AgentRun, AgentSnapshot, Chat, FileWrite, Message
from boocode.runs.status import ACTIVE

log = logging.getLogger(__name__)

_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)


async def save(db: Database, chat_id: str) -> SessionSnapshot:
    """Bring the chat's snapshot up to date and upsert it; returns what was stored.

    One transaction: read the stored snapshot, fold in the newer rows, write it back.
    """
    dialect = db.engine.dialect.name
    async with _locks[chat_id]:

        def work(conn: Connection) -> SessionSnapshot:
            stored = _load(conn, chat_id)
            if stored is not None and stored.version != SNAPSHOT_VERSION:
                stored = None
            snapshot = _current(conn, chat_id, stored)
            snapshot.saved_at = datetime.now(UTC)
            _upsert(conn, dialect, snapshot)
            return snapshot

        return await db.transact(work)


async def load(db: Database, chat_id: str) -> SessionSnapshot | None:
    """The stored snapshot in the current schema, or None when there is none."""
    return await db.transact(lambda conn: _load(conn, chat_id))


def _load(conn: Connection, chat_id: str) -> SessionSnapshot | None:
    row = conn.execute(_STORED, {"snapshot_chat": chat_id}).first()
    if row is None:
        return None
    try:
        return upgrade(row.version, row.data)
    except ValueError:
        # A snapshot is derived data: one that cannot be read is rebuilt by the next save.
        log.warning("ignoring the unreadable snapshot of chat %s", chat_id, exc_info=True)
        return None


async def delete(db: Database, chat_id: str) -> bool:
    """Forget the stored snapshot; True when there was one. The next save rebuilds it."""
    async with db.session() as session, session.begin():
        result = await session.execute(
            sql_delete(AgentSnapshot).where(AgentSnapshot.chat_id == chat_id)
        )
    return bool(getattr(result, "rowcount", 0))


async def current(db: Database, chat_id: str, base: SessionSnapshot | None) -> SessionSnapshot:
    """`base` advanced to the chat as it is now, without storing it."""
    return await db.transact(lambda conn: _current(conn, chat_id, base))


def _current(conn: Connection, chat_id: str, base: SessionSnapshot | None) -> SessionSnapshot:
    """`base` advanced to the chat as it is now, without storing it.

    Only rows newer than `base` are read; a missing base, or one of another branch, starts
    from empty.
    """
    chat = conn.execute(_CHAT, {"snapshot_chat": chat_id}).one()
    if base is None or base.branch_id != chat.branch_id:
        base = SessionSnapshot(chat_id=chat_id, branch_id=chat.branch_id)
    since = {
        "snapshot_chat": chat_id,
        "branch": base.branch_id,
        "turn": base.turn,
        "after_message": base.last_message_id,
        "after_write": base.last_file_write_id,
    }
    snapshot = fold_messages(base, conn.execute(_MESSAGES_SINCE, since).all())
    snapshot = fold_file_writes(snapshot, conn.execute(_WRITES_SINCE, since).all())
    task = conn.execute(_ACTIVE_RUN, since).first()
    snapshot.model = chat.model
    snapshot.task_id = task.id if task else None
    snapshot.turn = max(snapshot.turn, task.turn_number if task else 0)
    snapshot.status = _agent_status(task.status if task else None)
    return snapshot


# Built once: a save runs at the end of every turn, and building a statement costs more than
# SQLite takes to run it.
_CHAT = select(Chat.branch_id, Chat.model).where(Chat.id == bindparam("snapshot_chat"))
# The columns the folds read (rows stand in for `Message` and `FileWrite`).
_MESSAGES_SINCE = (
    select(
        Message.id,
        Message.role,
        Message.turn_number,
        Message.usage,
        Message.tool_calls,
        Message.tool_call_id,
    )
    .where(
        Message.chat_id == bindparam("snapshot_chat"),
        Message.branch_id == bindparam("branch"),
        Message.id > bindparam("after_message"),
    )
    .order_by(Message.id)
)
_WRITES_SINCE = (
    select(
        FileWrite.id,
        FileWrite.path,
        FileWrite.turn_number,
        # Whether there was a file before and after, not the contents.
        FileWrite.before.is_(None).label("created"),
        FileWrite.after.is_(None).label("deleted"),
    )
    .where(
        FileWrite.chat_id == bindparam("snapshot_chat"),
        FileWrite.turn_number >= bindparam("turn"),
        FileWrite.id > bindparam("after_write"),
        FileWrite.branch_id == bindparam("branch"),
    )
    .order_by(FileWrite.id)
)
# Newer turns only: a bounded range of the (chat_id, turn_number) index.
_ACTIVE_RUN = (
    select(AgentRun.id, AgentRun.status, AgentRun.turn_number)
    .where(
        AgentRun.chat_id == bindparam("snapshot_chat"),
        AgentRun.turn_number >= bindparam("turn"),
        AgentRun.status.in_([s.value for s in ACTIVE]),
    )
    .order_by(AgentRun.created_at.desc())
    .limit(1)
)


def fold_messages(base: SessionSnapshot, messages: Iterable[Row[Any]]) -> SessionSnapshot:
    """The snapshot after `messages` (newer than it, oldest first) were appended: rows with
    the `Message` columns id, role, turn_number, usage, tool_calls and tool_call_id."""
    snapshot = base.model_copy(deep=True)
    for row in messages:
        snapshot.last_message_id = row.id
        snapshot.message_count += 1
        snapshot.turn = max(snapshot.turn, row.turn_number)
        if row.role == "user":
            snapshot.pending_tool_calls = []
        elif row.role == "assistant":
            if row.usage:
                snapshot.usage = snapshot.usage + TokenUsage.model_validate(row.usage)
            snapshot.pending_tool_calls = [ToolCallOut(**call) for call in row.tool_calls or []]
        elif row.role == "tool":
            snapshot.pending_tool_calls = [
                call for call in snapshot.pending_tool_calls if call.id != row.tool_call_id
            ]
    return snapshot


def fold_file_writes(
    base: SessionSnapshot, writes: Iterable[Row[int, str, int, bool, bool]]
) -> SessionSnapshot:
    """The snapshot after the agent's file `writes` (newer than it, oldest first): rows with
    the `FileWrite` columns id, path and turn_number, and whether the write `created` the file
    (no before-image) or `deleted` it (no after-image)."""
    files = {entry.path: entry for entry in base.files}
    last_id = base.last_file_write_id
    for write in writes:
        last_id = write.id
        known = files.get(write.path)
        files[write.path] = TouchedFile(
            path=write.path,
            writes=(known.writes if known else 0) + 1,
            last_turn=write.turn_number,
            last_write_id=write.id,
            created=known.created if known else bool(write.created),
            deleted=bool(write.deleted),
        )
    ordered = sorted(files.values(), key=lambda entry: entry.path)
    return base.model_copy(update={"files": ordered, "last_file_write_id": last_id})


class _SnapshotV1(BaseModel):
    """The first stored shape: the position in the conversation, the status and the tokens."""

    chat_id: str
    status: str = "idle"
    turn: int = 0
    last_message_id: int = 0
    usage: TokenUsage = TokenUsage()


def upgrade(version: int, data: dict[str, Any]) -> SessionSnapshot:
    """Read a stored snapshot of any known version as the current schema."""
    if version == 1:
        old = _SnapshotV1.model_validate(data)
        # Still marked v1, so the next save knows to rebuild what v1 never kept.
        return SessionSnapshot(
            version=1,
            chat_id=old.chat_id,
            turn=old.turn,
            last_message_id=old.last_message_id,
            usage=old.usage,
            status=_agent_status(old.status),
        )
    if version == SNAPSHOT_VERSION:
        try:
            return SessionSnapshot.model_validate(data)
        except ValidationError as exc:
            raise ValueError(f"unreadable snapshot: {exc}") from exc
    raise ValueError(f"unknown snapshot version {version}")


def _agent_status(task_status: str | None) -> AgentStatus:
    if task_status == TurnStatus.RUNNING.value:
        return AgentStatus.RUNNING
    if task_status == TurnStatus.QUEUED.value:
        return AgentStatus.QUEUED
    return AgentStatus.IDLE


def _upsert(conn: Connection, dialect: str, snapshot: SessionSnapshot) -> None:
    values = {
        "chat_id": snapshot.chat_id,
        "version": SNAPSHOT_VERSION,
        "data": snapshot.model_dump(mode="json"),
        "updated_at": snapshot.saved_at,
    }
    conn.execute(_UPSERTS[dialect], values)


def _upsert_statement(insert: Any) -> Any:
    # The two dialects' `insert` differ only by import; the statement is built the same way.
    statement = insert(AgentSnapshot)
    return statement.on_conflict_do_update(
        index_elements=[AgentSnapshot.chat_id],
        set_={
            "version": statement.excluded.version,
            "data": statement.excluded.data,
            "updated_at": statement.excluded.updated_at,
        },
    )


_STORED = select(AgentSnapshot.version, AgentSnapshot.data).where(
    AgentSnapshot.chat_id == bindparam("snapshot_chat")
)
_UPSERTS = {
    "postgresql": _upsert_statement(postgresql.insert),
    "sqlite": _upsert_statement(sqlite.insert),
}
