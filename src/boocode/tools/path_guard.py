"""Keeps every file path a model sends inside the workspace."""

import os
from pathlib import Path

from boocode.tools.errors import ToolError

MAX_PATH_CHARS = 4096
MAX_COMPONENT_BYTES = 255
_SHOWN_CHARS = 200


class PathGuard:
    """Resolves model-supplied paths and refuses any that leave the workspace.

    Symlinks are resolved (a chain, a link in a parent directory, a dangling link),
    so a path is judged by where it really leads, not by how it is spelled.
    """

    def __init__(self, workspace: Path) -> None:
        resolved = Path(os.path.realpath(workspace))
        if not resolved.is_dir():
            raise ValueError(f"workspace is not a directory: {workspace}")
        self._workspace = resolved

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
