"""Putting workspace files back when the chat moves from one branch to another.

For each file either branch wrote, the content the branch being left expects on disk is its
last write (or, if it never wrote the file, what the other branch found before its first
write); the content wanted is the other branch's last write (or what the branch being left
found before its first write). A file whose disk content is not the expected one was changed
by someone else since: it is never touched, and reported as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from boocode.contracts.sessions import FileAction, FileRestoreOutcome
from boocode.db.tables import FileWrite
from boocode.sessions.workspace import Unreadable, WorkspaceFiles

CHANGED_SINCE = "changed since the agent's last write to it; left as it is"


@dataclass(frozen=True)
class FileMove:
    path: str
    expected: str | None
    wanted: str | None


def plan(leaving: Sequence[FileWrite], target: Sequence[FileWrite]) -> list[FileMove]:
    """The files whose content differs between the tips of the two branches."""
    left = _by_path(leaving)
    right = _by_path(target)
    moves = []
    for path in sorted(left.keys() | right.keys()):
        ours, theirs = left.get(path, []), right.get(path, [])
        expected = ours[-1].after if ours else theirs[0].before
        wanted = theirs[-1].after if theirs else ours[0].before
        if expected != wanted:
            moves.append(FileMove(path, expected, wanted))
    return moves


def apply(disk: WorkspaceFiles, moves: Sequence[FileMove]) -> list[FileRestoreOutcome]:
    """Carry out the moves that are safe; report what happened to each file."""
    return [_apply_one(disk, move) for move in moves]


def _apply_one(disk: WorkspaceFiles, move: FileMove) -> FileRestoreOutcome:
    try:
        current = disk.read(move.path)
        if current == move.wanted:
            return FileRestoreOutcome(path=move.path, action=FileAction.UNCHANGED)
        if current != move.expected:
            return FileRestoreOutcome(
                path=move.path, action=FileAction.SKIPPED, reason=CHANGED_SINCE
            )
        if move.wanted is None:
            disk.remove(move.path)
            return FileRestoreOutcome(path=move.path, action=FileAction.DELETED)
        disk.write(move.path, move.wanted)
        return FileRestoreOutcome(path=move.path, action=FileAction.RESTORED)
    except (Unreadable, OSError) as exc:
        return FileRestoreOutcome(path=move.path, action=FileAction.SKIPPED, reason=str(exc))


def _by_path(writes: Sequence[FileWrite]) -> dict[str, list[FileWrite]]:
    grouped: dict[str, list[FileWrite]] = {}
    for write in writes:
        grouped.setdefault(write.path, []).append(write)
    return grouped
