"""Restore a chat to an earlier turn, or return to a kept branch; nothing is ever deleted.

Restore to turn N copies the current branch's turns 1..N into a new branch and makes it
current; the branch left behind keeps all its rows and can be checked out again. Both moves
optionally put the agent's files back (see `file_restore`), and both are refused while a turn
runs, because the turn appends to whichever branch is current.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, cast, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boocode.agent import runtime
from boocode.contracts.sessions import BranchSwitch, CheckoutRequest, RestoreRequest
from boocode.db.engine import Database
from boocode.db.tables import Chat, FileWrite, Message
from boocode.runs import store as runs
from boocode.runs.store import TurnInProgress
from boocode.sessions import branches, file_restore, snapshot_store
from boocode.sessions.files import branch_writes
from boocode.sessions.snapshot import build_snapshot_frame
from boocode.sessions.workspace import WorkspaceFiles

# Step keys of turns off the current branch get this prefix, so a new turn of the same number
# on the current branch never finds (and reuses) another branch's step.
_PARKED = "~b"

_MESSAGE_COPY = (
    "chat_id",
    "turn_number",
    "role",
    "content",
    "reasoning",
    "tool_calls",
    "tool_call_id",
    "tool_name",
    "is_error",
    "cancelled",
    "usage",
    "model",
    "created_at",
    "attachments",
)
_WRITE_COPY = ("chat_id", "turn_number", "path", "before", "after", "created_at")


class TurnOutOfRange(ValueError):
    pass


async def restore(chat_id: str, request: RestoreRequest) -> BranchSwitch:
    """Continue the chat from the state after `request.turn`, on a new branch."""
    db = runtime.current().db
    chat = await branches.chat_row(db, chat_id)
    await _refuse_while_running(chat_id)
    last = await branches.last_turn(db, chat_id, chat.branch_id)
    if not request.turn < last:
        raise TurnOutOfRange(
            f"turn {request.turn} is not before the last turn ({last}) of the current branch; "
            f"restore to a turn from 0 to {last - 1}"
            if last
            else "the chat has no turns to restore"
        )
    leaving = await branch_writes(db, chat_id, chat.branch_id)
    new_branch = await branches.next_branch_id(db, chat)
    async with db.session() as session, session.begin():
        await _park_step_keys(session, chat_id, keep=new_branch)
        await _copy_rows(session, Message, _MESSAGE_COPY, chat, new_branch, request.turn)
        await _copy_rows(session, FileWrite, _WRITE_COPY, chat, new_branch, request.turn)
        await _make_current(session, chat_id, new_branch)
    kept = [write for write in leaving if write.turn_number <= request.turn]
    return await _finish(db, chat, new_branch, leaving, kept, request.restore_files)


async def checkout(chat_id: str, branch_id: int, request: CheckoutRequest) -> BranchSwitch:
    """Make a kept branch current again; the branch left stays kept in its turn."""
    db = runtime.current().db
    chat = await branches.chat_row(db, chat_id)
    if not await branches.branch_exists(db, chat, branch_id):
        raise branches.BranchNotFound(chat_id, branch_id)
    await _refuse_while_running(chat_id)
    if branch_id == chat.branch_id:
        turn = await branches.last_turn(db, chat_id, branch_id)
        return BranchSwitch(
            chat_id=chat_id, branch_id=branch_id, previous_branch_id=branch_id, turn=turn
        )
    leaving = await branch_writes(db, chat_id, chat.branch_id)
    target = await branch_writes(db, chat_id, branch_id)
    async with db.session() as session, session.begin():
        await _park_step_keys(session, chat_id, keep=branch_id)
        await _make_current(session, chat_id, branch_id)
    return await _finish(db, chat, branch_id, leaving, target, request.restore_files)


async def _finish(
    db: Database,
    chat: Chat,
    branch_id: int,
    leaving: list[FileWrite],
    target: list[FileWrite],
    restore_files: bool,
) -> BranchSwitch:
    files = []
    if restore_files:
        moves = file_restore.plan(leaving, target)
        files = file_restore.apply(WorkspaceFiles(chat.workspace), moves)
    await snapshot_store.save(db, chat.id)
    # Every open page of the chat redraws it from this frame.
    await runtime.current().events.publish(await build_snapshot_frame(chat.id))
    return BranchSwitch(
        chat_id=chat.id,
        branch_id=branch_id,
        previous_branch_id=chat.branch_id,
        turn=await branches.last_turn(db, chat.id, branch_id),
        files=files,
    )


async def _refuse_while_running(chat_id: str) -> None:
    if (run := await runs.active_turn(runtime.current().db, chat_id)) is not None:
        raise TurnInProgress(run.turn_number)


async def _park_step_keys(session: AsyncSession, chat_id: str, *, keep: int) -> None:
    parked = literal(_PARKED) + cast(Message.branch_id, String) + ":" + Message.step_key
    await session.execute(
        update(Message)
        .where(
            Message.chat_id == chat_id,
            Message.branch_id != keep,
            Message.step_key.is_not(None),
            Message.step_key.not_like(f"{_PARKED}%"),
        )
        .values(step_key=parked)
    )


async def _copy_rows(
    session: AsyncSession,
    table: type[Message] | type[FileWrite],
    columns: tuple[str, ...],
    chat: Chat,
    new_branch: int,
    up_to_turn: int,
) -> None:
    """Copy the current branch's rows of turns ≤ `up_to_turn` into `new_branch`, in order."""
    source = [getattr(table, name) for name in columns]
    rows = (
        select(*source, literal(new_branch, Integer))
        .where(
            table.chat_id == chat.id,
            table.branch_id == chat.branch_id,
            table.turn_number <= up_to_turn,
        )
        .order_by(table.id)
    )
    await session.execute(insert(table).from_select([*columns, "branch_id"], rows))


async def _make_current(session: AsyncSession, chat_id: str, branch_id: int) -> None:
    await session.execute(update(Chat).where(Chat.id == chat_id).values(branch_id=branch_id))
