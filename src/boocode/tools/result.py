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


# What the model reads of a call a cancel stopped (`cancelled_result`).
CANCELLED_WHILE_RUNNING = "cancelled by the user while it ran"
CANCELLED_BEFORE_RUNNING = "cancelled by the user before it ran"
# Cancelled while no process ran its step: what the dead process left running was killed.
CANCELLED_AFTER_A_CRASH = (
    "cancelled by the user after the process running it stopped; "
    "the command it left running was killed"
)


class ToolResult(BaseModel):
    """The outcome of one tool call; `content` is what the model reads."""

    content: str
    is_error: bool = False
    # The user's cancel stopped the call (an error, but not the tool's failure).
    cancelled: bool = False
    # A command ran past its time limit and was killed.
    timed_out: bool = False
    file_change: FileChange | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


def cancelled_result(content: str) -> ToolResult:
    """The result of a call the user's cancel stopped; `content` says when."""
    return ToolResult(content=content, is_error=True, cancelled=True)
