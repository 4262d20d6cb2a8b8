"""What a tool call hands back to the agent loop."""

from typing import Any

from pydantic import BaseModel, Field


class FileChange(BaseModel):
    """A file write, with the before-image needed to undo it."""

    path: str
    """Workspace-relative posix path."""
    before: str | None
    """Content before the change; None when the file did not exist."""
    after: str | None
    """Content after the change; None when the file was deleted."""


class ToolResult(BaseModel):
    """The outcome of one tool call; `content` is what the model reads."""

    content: str
    is_error: bool = False
    file_change: FileChange | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
