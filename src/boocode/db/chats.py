"""A new chat row: the one place its initial state is spelled out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from boocode.db.engine import Database
from boocode.db.tables import Chat

# A chat keeps this title until its first message names it.
UNTITLED = "New chat"
_HEADLINE_CHARS = 60


def headline(text: str, default: str) -> str:
    """The first line of `text`, cut to 60 characters with an ellipsis; `default` if blank: a
    chat's title from its first message, a subagent's or workflow agent's label."""
    line = text.strip().splitlines()[0] if text.strip() else default
    return line[:_HEADLINE_CHARS] + ("…" if len(line) > _HEADLINE_CHARS else "")


async def insert_chat(
    db: Database,
    *,
    workspace: str,
    model: str,
    title: str = UNTITLED,
    chat_id: str | None = None,
    created_at: datetime | None = None,
) -> Chat:
    """Store a chat with no messages, on branch 0, before its first frame."""
    now = created_at or datetime.now(UTC)
    chat = Chat(
        id=chat_id or uuid.uuid4().hex,
        title=title,
        created_at=now,
        updated_at=now,
        workspace=workspace,
        model=model,
        branch_id=0,
        last_seq=0,
    )
    async with db.session() as session, session.begin():
        session.add(chat)
    return chat
