"""Reading and putting back workspace files for the coder pane and file restore.

Paths come from the agent's recorded writes; they are resolved through the same guard the
tools use, so nothing outside the workspace is ever read or written.
"""

from __future__ import annotations

import os
from pathlib import Path

from boocode.tools.errors import ToolError
from boocode.tools.path_guard import PathGuard


class Unreadable(Exception):
    """The file cannot be compared as text (outside the workspace, binary, not UTF-8...)."""


class WorkspaceFiles:
    def __init__(self, workspace: str | Path) -> None:
        self.guard = PathGuard(Path(workspace))

    def read(self, path: str) -> str | None:
        """The file's text exactly as stored (no newline translation); None if it is absent."""
        target = self._resolve(path)
        if not target.exists():
            return None
        if not target.is_file():
            raise Unreadable(f"{path} is not a regular file")
        try:
            return target.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise Unreadable(f"{path} is not UTF-8 text") from None
        except OSError as exc:
            raise Unreadable(f"{path} cannot be read: {exc.strerror or exc}") from None

    def write(self, path: str, content: str) -> None:
        target = self._resolve(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8"))

    def remove(self, path: str) -> None:
        os.unlink(self._resolve(path))

    def _resolve(self, path: str) -> Path:
        try:
            return self.guard.resolve(path)
        except ToolError as exc:
            raise Unreadable(str(exc)) from None
