"""The coder pane: files the agent touched in this chat or in one turn, each with its net diff."""

from __future__ import annotations

import difflib

from sqlalchemy import select

from boocode.contracts.sessions import FileDiff, TouchedFiles
from boocode.db.engine import Database
from boocode.db.tables import FileWrite
from boocode.sessions import branches
from boocode.sessions.workspace import Unreadable, WorkspaceFiles


async def touched_files(db: Database, chat_id: str, turn: int | None = None) -> TouchedFiles:
    """Every file the agent wrote on the current branch (or in one turn), newest write first.

    Each diff is the net change: from the file before the first of those writes to after the
    last, however many writes came between.
    """
    chat = await branches.chat_row(db, chat_id)
    writes = await branch_writes(db, chat_id, chat.branch_id)
    turns = sorted({write.turn_number for write in writes})
    history: dict[str, list[FileWrite]] = {}
    for write in writes:
        if turn is None or write.turn_number == turn:
            history.setdefault(write.path, []).append(write)
    disk = WorkspaceFiles(chat.workspace)
    files = [
        _file_diff(disk, path, entries)
        for path, entries in sorted(history.items(), key=lambda item: -item[1][-1].id)
    ]
    return TouchedFiles(
        chat_id=chat_id, branch_id=chat.branch_id, turn=turn, turns=turns, files=files
    )


async def branch_writes(db: Database, chat_id: str, branch_id: int) -> list[FileWrite]:
    """The agent's file writes on a branch, oldest first."""
    async with db.session() as session:
        rows = await session.execute(
            select(FileWrite)
            .where(FileWrite.chat_id == chat_id, FileWrite.branch_id == branch_id)
            .order_by(FileWrite.id)
        )
        return list(rows.scalars())


def unified_diff(path: str, before: str | None, after: str | None) -> str:
    """`diff -u` of one change; a created or deleted file diffs against /dev/null."""
    return "".join(
        difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            (after or "").splitlines(keepends=True),
            fromfile="/dev/null" if before is None else f"a/{path}",
            tofile="/dev/null" if after is None else f"b/{path}",
        )
    )


def _file_diff(disk: WorkspaceFiles, path: str, entries: list[FileWrite]) -> FileDiff:
    first, last = entries[0], entries[-1]
    try:
        changed = disk.read(path) != last.after
    except Unreadable:
        changed = True
    return FileDiff(
        path=path,
        writes=len(entries),
        last_turn=last.turn_number,
        created=first.before is None,
        deleted=last.after is None,
        diff=unified_diff(path, first.before, last.after),
        changed_since=changed,
    )
