"""Chats and turns as the transports (server, CLI) use them."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Connection, insert, update

from boocode.agent import runtime, turn
from boocode.agent.history import load_messages, to_message_out
from boocode.attachments import message_attachments
from boocode.contracts.chats import (
    CancelResult,
    ChatOut,
    MessageCreate,
    MessageOut,
    TurnAccepted,
)
from boocode.contracts.frames import MessageFrame
from boocode.db.chats import UNTITLED, headline, insert_chat
from boocode.db.tables import Chat, Message
from boocode.runs import store as runs
from boocode.subagents import service as subagent_service

DEMO_LABEL = "demo (offline demo model)"


class ChatNotFound(LookupError):
    def __init__(self, chat_id: str) -> None:
        super().__init__(f"chat {chat_id} does not exist")


class SubagentConversation(RuntimeError):
    """A message posted to a subagent's own conversation: it takes none from outside."""

    def __init__(self) -> None:
        super().__init__(
            "this is a subagent's conversation; it takes no messages (write in its parent chat)"
        )


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


async def get_chat(chat_id: str) -> Chat:
    chat = await runtime.current().db.read(lambda session: session.get(Chat, chat_id))
    if chat is None:
        raise ChatNotFound(chat_id)
    return chat


async def messages(chat_id: str) -> list[MessageOut]:
    await get_chat(chat_id)
    return [to_message_out(row) for row in await load_messages(runtime.current().db, chat_id)]


async def post_message(chat_id: str, body: MessageCreate) -> TurnAccepted:
    """Store the user's message with a queued turn in one commit, then start the turn
    without waiting for it to be taken (the 202 answers at once).

    A second message while a turn is active is refused by the database (`TurnInProgress`). A
    crash between the commit and the start leaves a queued run that start-up reconciliation
    starts (`boocode.runs.recovery`).
    """
    rt = runtime.current()
    chat = await get_chat(chat_id)
    if chat.parent_chat_id is not None:
        raise SubagentConversation()
    attached = await message_attachments(
        rt.db, rt.settings, rt.model(Path(chat.workspace)), chat_id, body.attachment_ids
    )
    title = headline(body.content, UNTITLED) if chat.title == UNTITLED else None

    def announce(conn: Connection, new: runs.NewTurn) -> MessageFrame:
        values = {
            "chat_id": chat_id,
            "branch_id": new.branch_id,
            "turn_number": new.turn,
            "role": "user",
            "content": body.content,
            "is_error": False,
            "created_at": new.created_at,
            "attachments": attached,
        }
        user = Message(**values)
        user.id = conn.execute(insert(Message).returning(Message.id), values).scalar_one()
        if title is not None:
            conn.execute(
                update(Chat).where(Chat.id == chat_id, Chat.title == UNTITLED).values(title=title)
            )
        return MessageFrame(chat_id=chat_id, message=to_message_out(user))

    new = await runs.open_turn(
        rt.events,
        chat_id=chat_id,
        branch_id=chat.branch_id,
        run_id=f"turn-{uuid.uuid4().hex}",
        executor_id=rt.executor_id,
        announce=announce,
    )
    turn.start_soon(new.run_id)
    return TurnAccepted(turn=new.turn, task_id=new.run_id)


async def cancel(chat_id: str, *, subagents: bool = False) -> CancelResult:
    """Stop the chat's running turn; its subagents go on unless `subagents` says to stop them
    too (docs/subagents.md)."""
    rt = runtime.current()
    await get_chat(chat_id)
    stopped = await subagent_service.cancel_all(rt, chat_id) if subagents else 0
    run = await runs.active_turn(rt.db, chat_id)
    if run is None:
        return CancelResult(cancelled=False, subagents=stopped)
    return CancelResult(
        cancelled=await turn.request_cancel(run.id), turn=run.turn_number, subagents=stopped
    )
