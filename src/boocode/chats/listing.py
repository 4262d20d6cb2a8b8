"""The chat list: most recently active first, a page at a time, by keyset on (updated_at, id)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, tuple_

from boocode.agent.service import chat_out
from boocode.contracts.chats import ChatPage, ChatQuery
from boocode.db.engine import Database
from boocode.db.tables import Chat


async def list_chats(db: Database, query: ChatQuery) -> ChatPage:
    """One page of the chats matching `query`; `next_cursor` is None on the last page."""
    # A subagent's conversation is shown under the chat that spawned it, not in the list.
    stmt = select(Chat).where(Chat.archived == query.archived, Chat.parent_chat_id.is_(None))
    if query.q and query.q.strip():
        stmt = stmt.where(Chat.title.ilike(f"%{_escape_like(query.q.strip())}%", escape="\\"))
    if query.cursor is not None:
        updated_at, chat_id = decode_cursor(query.cursor)
        stmt = stmt.where(tuple_(Chat.updated_at, Chat.id) < tuple_(updated_at, chat_id))
    # One row past the page says whether another page follows.
    stmt = stmt.order_by(Chat.updated_at.desc(), Chat.id.desc()).limit(query.limit + 1)
    async with db.session() as session:
        rows = list((await session.execute(stmt)).scalars())
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return ChatPage(
        items=[chat_out(chat) for chat in page],
        next_cursor=encode_cursor(page[-1]) if more else None,
    )


def encode_cursor(chat: Chat) -> str:
    moment = chat.updated_at if chat.updated_at.tzinfo else chat.updated_at.replace(tzinfo=UTC)
    micros = (moment - _EPOCH) // _MICROSECOND
    return f"{micros}.{chat.id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    micros, chat_id = cursor.split(".", 1)
    return _EPOCH + int(micros) * _MICROSECOND, chat_id


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH
