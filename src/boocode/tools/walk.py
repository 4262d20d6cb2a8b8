"""Walks the workspace the way git sees it: `.git` skipped, `.gitignore` rules obeyed."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec


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

    def __init__(self, root: Path) -> None:
        self._root = root
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
            self._specs[rel_dir] = self._load(self._root / rel_dir / ".gitignore")
        return self._specs[rel_dir]

    @staticmethod
    def _load(path: Path) -> pathspec.GitIgnoreSpec | None:
        # A symlinked .gitignore could point outside the workspace: never read it.
        if path.is_symlink() or not path.is_file():
            return None
        try:
            return pathspec.GitIgnoreSpec.from_lines(
                path.read_text("utf-8", "replace").splitlines()
            )
        except OSError:
            return None


def walk(root: Path, start: Path, *, recursive: bool) -> Iterator[Entry]:
    """Yield the entries under `start` in sorted tree order, skipping `.git` and ignored paths.

    Asking for an ignored directory by name is taken as intent: inside it nothing is hidden
    except `.git`. Symlinked directories are listed but never descended.
    """
    ignore = GitIgnore(root)
    start_rel = start.relative_to(root).as_posix()
    prefix = "" if start_rel == "." else start_rel + "/"
    filtering = not _inside_ignored_dir(ignore, start_rel)
    stack = [iter(_sorted_entries(start))]
    while stack:
        dir_entry = next(stack[-1], None)
        if dir_entry is None:
            stack.pop()
            continue
        if dir_entry.name == ".git":
            continue
        rel = prefix + Path(dir_entry.path).relative_to(start).as_posix()
        real_dir = _is_dir(dir_entry, follow_symlinks=False)
        if filtering and ignore.is_ignored(rel, is_dir=real_dir):
            continue
        yield Entry(Path(dir_entry.path), rel, real_dir or _is_dir(dir_entry, follow_symlinks=True))
        if recursive and real_dir:
            stack.append(iter(_sorted_entries(Path(dir_entry.path))))


def _inside_ignored_dir(ignore: GitIgnore, start_rel: str) -> bool:
    if start_rel == ".":
        return False
    parts = start_rel.split("/")
    return any(
        ignore.is_ignored("/".join(parts[: depth + 1]), is_dir=True) for depth in range(len(parts))
    )


def _sorted_entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []


def _is_dir(entry: os.DirEntry[str], *, follow_symlinks: bool) -> bool:
    try:
        return entry.is_dir(follow_symlinks=follow_symlinks)
    except OSError:
        return False
