"""Reading and putting back workspace files for the coder pane and file restore.

Paths come from the agent's recorded writes; they are resolved through the same guard the
tools use, so nothing outside the workspace is ever read or written.
"""

from __future__ import annotations

import os
from pathlib import Path

from boocode.tools.errors import ToolError
from boocode.tools.path_guard import PathGuard
from boocode.tools.textfile import open_regular


class Unreadable(Exception):
    """The file cannot be compared as text (outside the workspace, binary, not UTF-8...)."""


class WorkspaceFiles:
    """Opens through `PathGuard.open_beneath`, like the file tools: no symlink is followed on
    the way, and a file with several hard links is refused."""

    def __init__(self, workspace: str | Path) -> None:
        self.guard = PathGuard(Path(workspace))

    def read(self, path: str) -> str | None:
        """The file's text exactly as stored (no newline translation); None if it is absent."""
        target = self._resolve(path)
        if not os.path.lexists(target):
            return None
        try:
            with open_regular(self.guard, target, path) as file:
                data = file.read()
        except ToolError as exc:
            raise Unreadable(str(exc)) from None
        except OSError as exc:
            raise Unreadable(f"{path} cannot be read: {exc.strerror or exc}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise Unreadable(f"{path} is not UTF-8 text") from None

    def write(self, path: str, content: str) -> None:
        target = self._resolve(path)
        exists = os.path.lexists(target)
        try:
            file = open_regular(self.guard, target, path, writable=True, create=not exists)
        except ToolError as exc:
            raise Unreadable(str(exc)) from None
        with file:
            file.truncate()
            file.write(content.encode("utf-8"))

    def remove(self, path: str) -> None:
        target = self._resolve(path)
        flags = os.O_PATH | os.O_DIRECTORY
        try:
            parent = self.guard.open_beneath(target.parent, flags)
        except ToolError as exc:
            raise Unreadable(str(exc)) from None
        try:
            os.unlink(target.name, dir_fd=parent)
        finally:
            os.close(parent)

    def _resolve(self, path: str) -> Path:
        try:
            return self.guard.resolve(path)
        except ToolError as exc:
            raise Unreadable(str(exc)) from None
