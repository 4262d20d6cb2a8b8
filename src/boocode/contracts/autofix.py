"""Auto-fix as it crosses a boundary: the per-chat state, the switch, and the live frame.

After a tool phase in which a write tool succeeded, the project's check runs; each run is an
`AutofixRun`, announced by an `autofix` frame when it starts and again when it finishes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from boocode.contracts.base import FrameBase, RequestBody


class AutofixSource(StrEnum):
    """Where the command came from."""

    CONFIG = "config"
    DETECTED = "detected"
    NONE = "none"


class AutofixRunStatus(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    UNAVAILABLE = "unavailable"
    """The command could not be started (not installed, not executable)."""


class AutofixRun(BaseModel):
    """One run of one check command after the agent wrote files."""

    turn: int
    command: list[str]
    status: AutofixRunStatus
    attempt: int = Field(description="the failing check this would be in its turn, from 1")
    max_attempts: int
    exit_code: int | None = None
    duration_ms: float | None = None
    gave_up: bool = Field(default=False, description="it failed and no attempts are left")
    trace_id: int | None = None


class AutofixState(BaseModel):
    """`GET /api/chats/{id}/autofix`: what runs after a write, whether it will, and why."""

    enabled: bool = Field(description="whether a check runs after this chat's next write")
    commands: list[list[str]] = Field(description="run in order; the first failure is reported")
    source: AutofixSource
    reason: str = Field(description="why this command was chosen, or why auto-fix is off")
    chat_setting: bool | None = Field(description="the chat's switch; null follows the project")
    project_enabled: bool = Field(description="the project's default, before the chat's switch")
    max_attempts: int
    timeout_s: float
    runs: list[AutofixRun] = Field(
        default_factory=list, description="the chat's latest runs, oldest first"
    )


class AutofixUpdate(RequestBody):
    """`PUT /api/chats/{id}/autofix`: switch auto-fix on or off for one chat."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(description="true or false for this chat; null: project default")


class AutofixFrame(FrameBase):
    """A check started (`status` running) or finished; marks its turn as auto-fixed."""

    type: Literal["autofix"] = "autofix"
    run: AutofixRun
