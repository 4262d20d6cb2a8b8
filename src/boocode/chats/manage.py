"""Rename, archive and delete a chat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from dbos import DBOS, WorkflowHandleAsync
from sqlalchemy import delete

from boocode.agent.service import ChatNotFound, chat_out
from boocode.contracts.chats import CancelResult, ChatOut, ChatUpdate
from boocode.db.engine import Database
from boocode.db.tables import Chat
from boocode.runs import store as runs

log = logging.getLogger(__name__)

# How long a delete waits for the chat's running turn to stop after cancelling it.
STOP_WAIT_S = 20.0


class TurnDidNotStop(RuntimeError):
    def __init__(self, turn_number: int) -> None:
        super().__init__(
            f"turn {turn_number} was cancelled but has not stopped yet; try deleting again"
        )


async def update_chat(db: Database, chat_id: str, change: ChatUpdate) -> ChatOut:
    """Apply a rename and/or (un)archive; the chat's place in the list does not move."""
    async with db.session() as session, session.begin():
        chat = await session.get(Chat, chat_id)
        if chat is None:
            raise ChatNotFound(chat_id)
        if change.title is not None:
            chat.title = change.title
        if change.archived is not None:
            chat.archived = change.archived
    return chat_out(chat)


async def delete_chat(
    db: Database,
    chat_id: str,
    cancel: Callable[[str], Awaitable[CancelResult]],
    stop_subagents: Callable[[str], Awaitable[int]],
) -> None:
    """Cancel the chat's running turn, wait for it to end, then remove the chat and its data.

    Messages, turns, frames, traces, snapshots and file before-images go with it (the foreign
    keys cascade); the files in the workspace are left as they are.
    """
    async with db.session() as session:
        if await session.get(Chat, chat_id) is None:
            raise ChatNotFound(chat_id)
    # Its subagents' conversations go with it: they are stopped first.
    await stop_subagents(chat_id)
    running = await runs.active_turn(db, chat_id)
    if running is not None:
        await cancel(chat_id)
        handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async(running.id)
        try:
            await asyncio.wait_for(handle.get_result(), STOP_WAIT_S)
        except TimeoutError:
            raise TurnDidNotStop(running.turn_number) from None
        except Exception:  # the turn ended badly: it has ended all the same
            log.warning("turn %s of chat %s ended with an error", running.id, chat_id)
    async with db.session() as session, session.begin():
        await session.execute(delete(Chat).where(Chat.id == chat_id))
