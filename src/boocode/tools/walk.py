"""Walks the workspace the way git sees it: `.git` skipped, `.gitignore` rules obeyed."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from boocode.tools.errors import ToolError
from boocode.tools.path_guard import PathGuard
from boocode.tools.textfile import open_regular

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY


@dataclass(frozen=True)
class Entry:
    """One file or directory met on a walk."""

    path: Path
    rel: str
    """Workspace-relative posix path."""
    is_dir: bool
    """True for directories and for symlinks to directories (which are not descended)."""


class GitIgnore:
    """The `.gitignore` files of a workspace, read on first use; the nearest file decides."""

    def __init__(self, guard: PathGuard) -> None:
        self._guard = guard
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}

    def is_ignored(self, rel: str, *, is_dir: bool) -> bool:
        """Whether the workspace-relative path `rel` is ignored."""
        parts = rel.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            spec = self._spec("/".join(parts[:depth]))
            if spec is None:
                continue
            tail = "/".join(parts[depth:]) + ("/" if is_dir else "")
            verdict = spec.check_file(tail).include
            if verdict is not None:
                return verdict
        return False

    def _spec(self, rel_dir: str) -> pathspec.GitIgnoreSpec | None:
        if rel_dir not in self._specs:
            self._specs[rel_dir] = self._load(self._guard.workspace / rel_dir / ".gitignore")
        return self._specs[rel_dir]

    def _load(self, path: Path) -> pathspec.GitIgnoreSpec | None:
        # Opened beneath the workspace like any file: a symlinked .gitignore is never read.
        if not path.is_file():
            return None
        try:
            with open_regular(self._guard, path, ".gitignore") as file:
                text = file.read().decode("utf-8", "replace")
        except (ToolError, OSError):
            return None
        return pathspec.GitIgnoreSpec.from_lines(text.splitlines())


def walk(guard: PathGuard, start: Path, *, recursive: bool) -> Iterator[Entry]:
    """Yield the entries under `start` in sorted tree order, skipping `.git` and ignored paths.

    Asking for an ignored directory by name is taken as intent: inside it nothing is hidden
    except `.git`. Symlinked directories are listed but never descended. Each directory is
    opened relative to its parent's descriptor with O_NOFOLLOW, so a directory swapped for a
    symlink during the walk is not entered.
    """
    ignore = GitIgnore(guard)
    start_rel = start.relative_to(guard.workspace).as_posix()
    prefix = "" if start_rel == "." else start_rel + "/"
    filtering = not _inside_ignored_dir(ignore, start_rel)
    try:
        start_fd = guard.open_beneath(start, _DIRECTORY_FLAGS)
    except (ToolError, OSError):
        return
    stack = [_Level(start_fd, start, iter(_sorted_entries(start_fd)))]
    try:
        while stack:
            level = stack[-1]
            dir_entry = next(level.entries, None)
            if dir_entry is None:
                os.close(stack.pop().fd)
                continue
            if dir_entry.name == ".git":
                continue
            path = level.path / dir_entry.name
            rel = prefix + path.relative_to(start).as_posix()
            real_dir = _is_dir(dir_entry, follow_symlinks=False)
            if filtering and ignore.is_ignored(rel, is_dir=real_dir):
                continue
            yield Entry(path, rel, real_dir or _is_dir(dir_entry, follow_symlinks=True))
            if recursive and real_dir:
                child = _open_child(dir_entry.name, level.fd)
                if child is not None:
                    stack.append(_Level(child, path, iter(_sorted_entries(child))))
    finally:
        for level in stack:
            os.close(level.fd)


@dataclass
class _Level:
    """One open directory of a walk, and the entries of it still to visit."""

    fd: int
    path: Path
    entries: Iterator[os.DirEntry[str]]


def _inside_ignored_dir(ignore: GitIgnore, start_rel: str) -> bool:
    if start_rel == ".":
        return False
    parts = start_rel.split("/")
    return any(
        ignore.is_ignored("/".join(parts[: depth + 1]), is_dir=True) for depth in range(len(parts))
    )


def _sorted_entries(fd: int) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(fd) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []


def _open_child(name: str, parent: int) -> int | None:
    try:
        return os.open(name, _DIRECTORY_FLAGS | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    except OSError:
        return None


def _is_dir(entry: os.DirEntry[str], *, follow_symlinks: bool) -> bool:
    try:
        return entry.is_dir(follow_symlinks=follow_symlinks)
    except OSError:
        return False
