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


# The results of tool calls a cancel stopped: a cancellation, not a failure of the tool.
CANCELLED_WHILE_RUNNING = "cancelled by the user while it ran"
CANCELLED_BEFORE_RUNNING = "cancelled by the user before it ran"
# Cancelled while no process ran its step: what the dead process left running was killed.
CANCELLED_AFTER_A_CRASH = (
    "cancelled by the user after the process running it stopped; "
    "the command it left running was killed"
)
CANCELLED_RESULTS = frozenset(
    {CANCELLED_WHILE_RUNNING, CANCELLED_BEFORE_RUNNING, CANCELLED_AFTER_A_CRASH}
)


def is_cancellation(content: object) -> bool:
    """True for the stored result of a tool call the user's cancel stopped."""
    return isinstance(content, str) and content in CANCELLED_RESULTS


class ToolResult(BaseModel):
    """The outcome of one tool call; `content` is what the model reads."""

    content: str
    is_error: bool = False
    file_change: FileChange | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
