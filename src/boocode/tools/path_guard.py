"""Keeps every file path a model sends inside the workspace, and opens it without a race."""

import contextlib
import errno
import os
import stat
from pathlib import Path

from boocode.tools.errors import ToolError

READ_ONLY_TREES = (".boocode", ".git/config", ".git/hooks")
"""Read, never written, by the file tools, as by a sandboxed command: the project's settings
and the git settings and hooks the server's own git reads."""
MAX_PATH_CHARS = 4096
MAX_COMPONENT_BYTES = 255
_SHOWN_CHARS = 200


class PathGuard:
    """Resolves model-supplied paths and refuses any that leave the workspace.

    Symlinks are resolved (a chain, a link in a parent directory, a dangling link),
    so a path is judged by where it really leads, not by how it is spelled. `open_beneath`
    then opens the resolved path from the workspace root without following any symlink, so a
    link swapped in after the check makes the open fail rather than lead outside.
    """

    def __init__(self, workspace: Path, *, allow_hard_links: bool = False) -> None:
        resolved = Path(os.path.realpath(workspace))
        if not resolved.is_dir():
            raise ValueError(f"workspace is not a directory: {workspace}")
        self._workspace = resolved
        self._allow_hard_links = allow_hard_links

    @property
    def workspace(self) -> Path:
        """The workspace root, fully resolved."""
        return self._workspace

    def resolve(self, path: str) -> Path:
        """Return the real path `path` leads to, or raise ToolError if it is outside.

        Relative paths are taken from the workspace root; an empty path is the root.
        """
        _check_spelling(path)
        joined = self._workspace / path
        resolved = Path(os.path.realpath(joined))
        if resolved.is_relative_to(self._workspace):
            return resolved
        if Path(os.path.normpath(joined)).is_relative_to(self._workspace):
            raise ToolError(
                f"path {_shown(path)} goes through a symlink that points outside the workspace"
            )
        raise ToolError(f"path {_shown(path)} is outside the workspace")

    def is_inside(self, path: str | os.PathLike[str]) -> bool:
        """Whether `path` (relative to the workspace, or absolute) really lies inside it."""
        try:
            resolved = Path(os.path.realpath(self._workspace / path))
        except (OSError, ValueError):
            return False
        return resolved.is_relative_to(self._workspace)

    def open_beneath(
        self, target: Path, flags: int, mode: int = 0o666, *, make_parents: bool = False
    ) -> int:
        """Open `target` (a path `resolve` returned) one component at a time from the
        workspace root, each with O_NOFOLLOW; missing parents are created when asked.

        Raises ToolError if a parent became a symlink or a file since `resolve`, and OSError
        (FileNotFoundError, ELOOP for a final symlink...) for the caller to word.
        """
        parts = target.relative_to(self._workspace).parts
        directory = os.open(self._workspace, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for name in parts[:-1]:
                parent = directory
                directory = self._open_directory(name, parent, make_parents, target)
                os.close(parent)
            name = parts[-1] if parts else "."
            # A final symlink (a loop, or one swapped in) fails here with ELOOP.
            return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=directory)
        finally:
            os.close(directory)

    def check_writable(self, target: Path) -> None:
        """Refuse to change the project's settings, a repository's config and hooks, or a
        worktree's `.git` pointer (`target` from `resolve`)."""
        relative = target.relative_to(self._workspace)
        if relative == Path(".git") or any(
            relative.is_relative_to(tree) for tree in READ_ONLY_TREES
        ):
            raise ToolError(
                f"{relative.as_posix()} is read-only to the agent: the project's settings and "
                "git's own settings and hooks are changed by the user, not by tools"
            )

    def check_links(self, info: os.stat_result, target: Path) -> None:
        """Refuse a regular file with several hard links: another name may lie outside."""
        if info.st_nlink > 1 and not self._allow_hard_links:
            raise ToolError(
                f"{self.relative(target)} has {info.st_nlink} hard links; another of its names "
                "may lie outside the workspace, so the file tools refuse it "
                "(a project can allow it with [sandbox] allow_hard_links = true)"
            )

    def _open_directory(self, name: str, parent: int, make_parents: bool, target: Path) -> int:
        try:
            return self._open_directory_at(name, parent, target)
        except FileNotFoundError:
            if not make_parents:
                raise
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o777, dir_fd=parent)
        return self._open_directory_at(name, parent, target)

    def _open_directory_at(self, name: str, parent: int, target: Path) -> int:
        flags = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            return os.open(name, flags, dir_fd=parent)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
        shown = _shown(self.relative(target))
        if stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode):
            raise ToolError(f"a parent of {shown} became a symlink while it was being opened")
        raise ToolError(f"a parent of {shown} is not a directory")

    def relative(self, path: Path) -> str:
        """The workspace-relative posix form of a resolved path, for display ("." for the root)."""
        if not path.is_relative_to(self._workspace):
            raise ToolError(f"path {_shown(str(path))} is outside the workspace")
        return path.relative_to(self._workspace).as_posix()


def _check_spelling(path: str) -> None:
    if not isinstance(path, str):
        raise ToolError("path must be a string")
    if "\x00" in path:
        raise ToolError("path must not contain NUL bytes")
    if path.startswith("~"):
        raise ToolError(
            f"path {_shown(path)} starts with '~'; home directories are not expanded, "
            "use a path relative to the workspace"
        )
    if len(path) > MAX_PATH_CHARS:
        raise ToolError(f"path is too long ({len(path)} characters, the limit is {MAX_PATH_CHARS})")
    for part in path.split("/"):
        if len(part.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES:
            raise ToolError(
                f"path component {_shown(part)} is too long "
                f"(the limit is {MAX_COMPONENT_BYTES} bytes)"
            )


def _shown(path: str) -> str:
    if len(path) > _SHOWN_CHARS:
        path = path[:_SHOWN_CHARS] + "…"
    return repr(path)
