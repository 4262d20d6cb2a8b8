"""Rename, archive and delete a chat."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from dbos import DBOS
from sqlalchemy import delete, or_, select

from boocode.agent import turn as turns
from boocode.agent.runtime import Runtime
from boocode.agent.service import ChatNotFound, chat_out
from boocode.attachments.store import BlobStore
from boocode.contracts.chats import ChatOut, ChatUpdate
from boocode.db.engine import Database
from boocode.db.tables import AgentRun, Attachment, Chat
from boocode.runs.status import ACTIVE

# How long a delete waits for the chat's running runs to stop after cancelling them.
STOP_WAIT_S = 20.0
_POLL_S = 0.1
# DBOS statuses of a workflow that may still run a step (and write its records).
_DBOS_LIVE = ["PENDING", "ENQUEUED", "DELAYED"]


class RunsDidNotStop(RuntimeError):
    def __init__(self, count: int) -> None:
        runs = "1 run" if count == 1 else f"{count} runs"
        super().__init__(
            f"{runs} of the chat were cancelled but have not stopped yet; try deleting again"
        )


@dataclass(frozen=True)
class _Stored:
    """What a chat leaves outside its own rows: its runs' DBOS records, its files' blobs."""

    run_ids: list[str]
    digests: set[str]


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
        await session.flush()
        await session.refresh(chat)  # as stored: a NUL became a visible ␀ (boocode.db.text)
    return chat_out(chat)


async def delete_chat(rt: Runtime, chat_id: str) -> None:
    """Stop every run of the chat, wait for them to end, then remove the chat and its data.

    The runs are the chat's turns, its subagents, its workflow runs and their agents, and
    whatever those started in turn: every run whose conversation is the chat or one below it.
    Messages, turns, frames, traces, snapshots, file before-images and attachment rows go
    with the chat (the foreign keys cascade); then the DBOS records of its runs (their step
    outputs hold tool arguments and results), and each attachment file no other chat uses.
    The files in the workspace are left as they are.
    """
    async with rt.db.session() as session:
        if await session.get(Chat, chat_id) is None:
            raise ChatNotFound(chat_id)
    chats = await _chat_tree(rt.db, chat_id)
    await _stop_runs(rt.db, chats)
    stored = await _stored(rt.db, chats)
    async with rt.db.session() as session, session.begin():
        await session.execute(delete(Chat).where(Chat.id == chat_id))
    if stored.run_ids:
        await DBOS.delete_workflows_async(stored.run_ids)
    await _remove_unused_blobs(rt.db, BlobStore(rt.settings.attachment_store_dir), stored.digests)


async def _chat_tree(db: Database, chat_id: str) -> list[str]:
    """The chat and every conversation below it (its subagents', its workflow agents')."""
    found, frontier = [chat_id], [chat_id]
    async with db.session() as session:
        while frontier:
            rows = await session.execute(select(Chat.id).where(Chat.parent_chat_id.in_(frontier)))
            frontier = list(rows.scalars())
            found += frontier
    return found


async def _stop_runs(db: Database, chats: list[str]) -> None:
    """Cancel the active runs of `chats` until none is left and DBOS runs none of them.

    A run stopping can start another (a workflow's end wakes its chat with a new turn): DBOS
    is asked first whether the runs cancelled so far have ended, then the records are read
    again, so a run started before that answer is found and cancelled too.
    """
    deadline = time.monotonic() + STOP_WAIT_S
    stopping: set[str] = set()
    while True:
        live = await _dbos_live(stopping)
        active = await _active(db, chats)
        for run_id in active - stopping:
            await turns.request_cancel(run_id)
        stopping |= active
        if not live and not active:
            return
        if time.monotonic() > deadline:
            raise RunsDidNotStop(len(live | active))
        await asyncio.sleep(_POLL_S)


async def _active(db: Database, chats: list[str]) -> set[str]:
    async with db.session() as session:
        rows = await session.execute(
            select(AgentRun.id).where(
                AgentRun.chat_id.in_(chats),
                AgentRun.status.in_([status.value for status in ACTIVE]),
            )
        )
        return set(rows.scalars())


async def _dbos_live(run_ids: set[str]) -> set[str]:
    if not run_ids:
        return set()
    statuses = await DBOS.list_workflows_async(
        workflow_ids=sorted(run_ids), status=_DBOS_LIVE, load_input=False, load_output=False
    )
    return {status.workflow_id for status in statuses}


async def _stored(db: Database, chats: list[str]) -> _Stored:
    async with db.session() as session:
        run_ids = await session.execute(select(AgentRun.id).where(AgentRun.chat_id.in_(chats)))
        files = await session.execute(
            select(Attachment.sha256, Attachment.model_sha256).where(Attachment.chat_id.in_(chats))
        )
        digests = {digest for pair in files.tuples() for digest in pair if digest is not None}
        return _Stored(run_ids=list(run_ids.scalars()), digests=digests)


async def _remove_unused_blobs(db: Database, store: BlobStore, digests: set[str]) -> None:
    """Remove the files of `digests` that no remaining attachment refers to (a file uploaded
    to two chats is stored once)."""
    if not digests:
        return
    async with db.session() as session:
        rows = await session.execute(
            select(Attachment.sha256, Attachment.model_sha256).where(
                or_(Attachment.sha256.in_(digests), Attachment.model_sha256.in_(digests))
            )
        )
        used = {digest for pair in rows.tuples() for digest in pair}
    for digest in sorted(digests - used):
        await asyncio.to_thread(store.remove, digest)
