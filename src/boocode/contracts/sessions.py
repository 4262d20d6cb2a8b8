"""Sessions on the wire: the stored snapshot, the timeline, restore, branches, touched files."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from boocode.contracts.base import INT32_MAX, RequestBody
from boocode.contracts.chats import ToolCallOut, TurnStatus
from boocode.contracts.usage import TokenUsage

SNAPSHOT_VERSION = 2


class AgentStatus(StrEnum):
    IDLE = "idle"
    QUEUED = "queued"
    RUNNING = "running"


class TouchedFile(BaseModel):
    """A file the agent wrote in this chat (current branch), in summary."""

    path: str
    writes: int
    last_turn: int
    last_write_id: int
    created: bool = Field(description="the file did not exist before the agent's first write")
    deleted: bool = Field(description="the agent's last write removed the file")


class SessionSnapshot(BaseModel):
    """What a client needs to rehydrate a chat, stored once per chat and upserted per turn.

    The conversation itself stays in `messages`: the snapshot refers to it by branch and
    `last_message_id`, so saving it costs the same after turn 10 as after turn 500.
    """

    version: int = SNAPSHOT_VERSION
    chat_id: str
    branch_id: int = 0
    model: str = ""
    status: AgentStatus = AgentStatus.IDLE
    turn: int = Field(default=0, description="the newest turn on the branch, running or not")
    task_id: str | None = Field(default=None, description="the running turn's task, if any")
    last_message_id: int = 0
    message_count: int = 0
    pending_tool_calls: list[ToolCallOut] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    files: list[TouchedFile] = Field(default_factory=list)
    last_file_write_id: int = 0
    saved_at: datetime | None = None


class TimelineTurn(BaseModel):
    turn: int
    prompt: str = Field(description="the user's message, cut to an excerpt")
    first_message_id: int
    tool_calls: int
    tool_errors: int
    usage: TokenUsage
    tokens: int
    started_at: datetime
    duration_ms: float | None = None
    status: TurnStatus | None = Field(default=None, description="None when no task ran it")
    error: str | None = None
    files: list[str] = Field(default_factory=list, description="files the agent wrote")


class BranchOut(BaseModel):
    id: int
    current: bool
    turns: int
    forked_at_turn: int | None = Field(
        default=None, description="the last turn it shares with an older branch"
    )
    last_prompt: str = ""
    updated_at: datetime | None = None


class Timeline(BaseModel):
    chat_id: str
    branch_id: int
    current_branch_id: int
    turns: list[TimelineTurn]
    branches: list[BranchOut]


class RestoreRequest(RequestBody):
    turn: int = Field(
        ge=0, le=INT32_MAX, description="continue from the state after this turn (0: the start)"
    )
    restore_files: bool = False


class CheckoutRequest(RequestBody):
    restore_files: bool = False


class FileAction(StrEnum):
    RESTORED = "restored"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


class FileRestoreOutcome(BaseModel):
    path: str
    action: FileAction
    reason: str | None = None


class BranchSwitch(BaseModel):
    """The result of a restore or a checkout: where the chat now continues, and the files."""

    chat_id: str
    branch_id: int
    previous_branch_id: int
    turn: int = Field(description="the newest turn on the branch now current")
    files: list[FileRestoreOutcome] = Field(default_factory=list)


class FileDiff(BaseModel):
    """A touched file with the unified diff of the agent's net change to it."""

    path: str
    writes: int
    last_turn: int
    created: bool
    deleted: bool
    diff: str
    changed_since: bool = Field(description="the file on disk no longer matches the agent's write")


class TouchedFiles(BaseModel):
    """The files written on the current branch: in one `turn`, or (turn null) in the whole chat."""

    chat_id: str
    branch_id: int
    turn: int | None = None
    turns: list[int] = Field(default_factory=list, description="the turns that wrote files")
    files: list[FileDiff]
