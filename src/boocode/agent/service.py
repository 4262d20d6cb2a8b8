"""Chats and turns as the transports (server, CLI) use them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from boocode.agent import runtime, turn
from boocode.agent.history import load_messages, to_message_out
from boocode.agent.status import ACTIVE
from boocode.contracts.chats import (
    CancelResult,
    ChatOut,
    MessageCreate,
    MessageOut,
    TurnAccepted,
    TurnStatus,
)
from boocode.contracts.frames import MessageFrame
from boocode.db.chats import UNTITLED, insert_chat
from boocode.db.tables import Chat, Message, Task

DEMO_LABEL = "demo (offline demo model)"


class ChatNotFound(LookupError):
    def __init__(self, chat_id: str) -> None:
        super().__init__(f"chat {chat_id} does not exist")


class TurnInProgress(RuntimeError):
    def __init__(self, turn_number: int) -> None:
        super().__init__(f"turn {turn_number} is still running; wait for it or cancel it")
        self.turn_number = turn_number


def chat_out(chat: Chat) -> ChatOut:
    is_demo = chat.model == "demo"
    return ChatOut(
        id=chat.id,
        title=chat.title,
        created_at=chat.created_at,
        updated_at=chat.updated_at,
        model=chat.model,
        model_label=DEMO_LABEL if is_demo else chat.model,
        is_demo=is_demo,
        autofix=chat.autofix,
        workspace=chat.workspace,
        archived=chat.archived,
        branch_id=chat.branch_id,
    )


async def create_chat(title: str | None = None, workspace: Path | None = None) -> ChatOut:
    rt = runtime.current()
    workspace = (workspace or rt.settings.workspace).resolve()
    chat = await insert_chat(
        rt.db, workspace=str(workspace), model=rt.model(workspace).name, title=title or UNTITLED
    )
    return chat_out(chat)


async def list_chats() -> list[ChatOut]:
    async with runtime.current().db.session() as session:
        rows = await session.execute(select(Chat).order_by(Chat.updated_at.desc()))
        return [chat_out(chat) for chat in rows.scalars()]


async def get_chat(chat_id: str) -> Chat:
    async with runtime.current().db.session() as session:
        chat = await session.get(Chat, chat_id)
    if chat is None:
        raise ChatNotFound(chat_id)
    return chat


async def messages(chat_id: str) -> list[MessageOut]:
    await get_chat(chat_id)
    return [to_message_out(row) for row in await load_messages(runtime.current().db, chat_id)]


async def active_task(chat_id: str) -> Task | None:
    async with runtime.current().db.session() as session:
        return (
            await session.execute(
                select(Task)
                .where(Task.chat_id == chat_id, Task.status.in_([s.value for s in ACTIVE]))
                .order_by(Task.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()


async def post_message(chat_id: str, body: MessageCreate) -> TurnAccepted:
    """Store the user's message and start a durable turn that answers it."""
    rt = runtime.current()
    chat = await get_chat(chat_id)
    if (running := await active_task(chat_id)) is not None:
        raise TurnInProgress(running.turn_number)
    number = await turn.next_turn_number(chat_id, chat.branch_id)
    task_id = f"turn-{chat_id}-{chat.branch_id}-{number}-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    user = Message(
        chat_id=chat_id,
        branch_id=chat.branch_id,
        turn_number=number,
        role="user",
        content=_user_content(body),
        created_at=now,
    )
    async with rt.db.session() as session, session.begin():
        session.add(user)
        session.add(
            Task(
                id=task_id,
                chat_id=chat_id,
                kind="turn",
                turn_number=number,
                branch_id=chat.branch_id,
                status=TurnStatus.QUEUED.value,
                created_at=now,
            )
        )
        if chat.title == UNTITLED:
            await session.merge(Chat(id=chat_id, title=_title_from(body.content)))
    await rt.events.publish(MessageFrame(chat_id=chat_id, message=to_message_out(user)))
    await turn.start_turn(task_id, chat_id, number)
    return TurnAccepted(turn=number, task_id=task_id)


async def cancel(chat_id: str) -> CancelResult:
    await get_chat(chat_id)
    task = await active_task(chat_id)
    if task is None:
        return CancelResult(cancelled=False)
    return CancelResult(cancelled=await turn.request_cancel(task.id), turn=task.turn_number)


def _user_content(body: MessageCreate) -> Any:
    if not body.images:
        return body.content
    parts: list[dict[str, Any]] = [{"type": "text", "text": body.content}]
    parts += [{"type": "image_url", "image_url": {"url": img.data_url}} for img in body.images]
    return parts


def _title_from(content: str) -> str:
    line = content.strip().splitlines()[0] if content.strip() else UNTITLED
    return line[:60] + ("…" if len(line) > 60 else "")
