"""The conversation as stored, turned into provider messages in the same order every time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from boocode.attachments.records import attachment_out
from boocode.contracts.chats import MessageOut, ToolCallOut
from boocode.contracts.usage import TokenUsage
from boocode.db.engine import Database
from boocode.db.tables import Chat, Message
from boocode.providers import ToolCall


async def load_messages(db: Database, chat_id: str, branch_id: int | None = None) -> list[Message]:
    """The chat's messages on its current branch (or `branch_id`), oldest first."""
    branch = (
        select(Chat.branch_id).where(Chat.id == chat_id).scalar_subquery()
        if branch_id is None
        else branch_id
    )
    query = (
        select(Message)
        .where(Message.chat_id == chat_id, Message.branch_id == branch)
        .order_by(Message.id)
    )
    return await db.read(lambda session: list(session.scalars(query)))


async def messages_after(
    db: Database, chat_id: str, branch_id: int, after_id: int
) -> list[Message]:
    """The messages of a chat's branch stored after message `after_id`, oldest first."""
    parameters = {"chat": chat_id, "branch": branch_id, "after": after_id}
    return await db.read(lambda session: list(session.scalars(_AFTER, parameters)))


# Built once: constructing a statement costs more than SQLite takes to run it.
_AFTER = (
    select(Message)
    .where(
        Message.chat_id == bindparam("chat"),
        Message.branch_id == bindparam("branch"),
        Message.id > bindparam("after"),
    )
    .order_by(Message.id)
)


def to_provider_message(row: Message) -> dict[str, Any]:
    """One stored message as the OpenAI chat format wants it; keys in a fixed order."""
    if row.role == "assistant":
        message: dict[str, Any] = {"role": "assistant", "content": row.content or ""}
        if row.tool_calls:
            message["tool_calls"] = [
                ToolCall.model_validate(call).to_openai() for call in row.tool_calls
            ]
        return message
    if row.role == "tool":
        return {"role": "tool", "tool_call_id": row.tool_call_id, "content": row.content}
    return {"role": row.role, "content": row.content}


def to_message_out(row: Message) -> MessageOut:
    return MessageOut(
        id=row.id,
        turn=row.turn_number,
        role=row.role,  # type: ignore[arg-type]
        content=row.content,
        reasoning=row.reasoning,
        tool_calls=[ToolCallOut(**call) for call in row.tool_calls or []],
        tool_call_id=row.tool_call_id,
        tool_name=row.tool_name,
        is_error=row.is_error,
        # None in a row built for its frame, not read back: only tool results set it.
        cancelled=bool(row.cancelled),
        usage=TokenUsage(**row.usage) if row.usage else None,
        model=row.model,
        created_at=row.created_at,
        attachments=[attachment_out(row.chat_id, record) for record in row.attachments or []],
    )
