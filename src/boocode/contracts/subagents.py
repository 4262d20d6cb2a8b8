"""Background subagents: what a spawn asks for, what a client sees, the frame of each change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from boocode.contracts.base import FrameBase
from boocode.contracts.chats import MessageOut
from boocode.contracts.runs import RunStatus
from boocode.contracts.usage import TokenUsage

SubagentEvent = Literal["spawned", "started", "ended"]


SUBAGENT_NOTIFICATION = "subagent_notification"
"""`tool_name` of the user-role message that tells a parent its subagents or workflow runs ended."""


class Isolation(StrEnum):
    NONE = "none"
    WORKTREE = "worktree"


class SubagentSpec(BaseModel):
    """What the parent asked for, stored with the run; replays and resumes read it back."""

    prompt: str
    label: str
    tools: list[str]
    isolation: Isolation = Isolation.NONE
    depth: int = 1
    # The tool call of the parent that spawned it: its trace is the subagent's root.
    spawn_call_id: str | None = None
    # A worktree subagent's worktree, its branch, the commit it starts from, and the
    # directory of the worktree it works in (the parent's, relative to the repository).
    worktree: str | None = None
    branch: str | None = None
    base: str | None = None
    subdir: str = ""


class WorktreeReport(BaseModel):
    """What a worktree subagent changed: kept with its branch when it changed something."""

    path: str
    branch: str
    kept: bool
    diff_stat: str = ""
    commit: str | None = Field(default=None, description="the commit holding the changes")


class SubagentResult(BaseModel):
    answer: str = ""
    worktree: WorktreeReport | None = None


class SubagentOut(BaseModel):
    task_id: str
    chat_id: str = Field(description="the chat that spawned it")
    conversation_id: str = Field(description="its own conversation: GET /api/chats/{id}/messages")
    parent_run_id: str | None = None
    label: str
    prompt: str
    status: RunStatus
    isolation: Isolation
    tools: list[str]
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    elapsed_s: float = Field(description="running time so far, or in all once it ended")
    tool_calls: int = 0
    usage: TokenUsage = Field(default_factory=TokenUsage)
    answer: str | None = None
    error: str | None = None
    worktree: WorktreeReport | None = None
    notified: bool = Field(default=False, description="the parent conversation received it")


class SubagentDetail(SubagentOut):
    transcript: list[MessageOut]


class SubagentList(BaseModel):
    subagents: list[SubagentOut]


class SubagentCancelResult(BaseModel):
    task_id: str
    cancelled: bool = Field(description="false when it had already ended")


class SubagentFrame(FrameBase):
    """A subagent of the chat was spawned, started or ended."""

    type: Literal["subagent"] = "subagent"
    event: SubagentEvent
    subagent: SubagentOut


HookEvent = Literal["subagent_start", "subagent_stop"]


class SubagentHookEvent(BaseModel):
    """What a `[hooks]` command reads on stdin."""

    event: HookEvent
    subagent: SubagentOut
