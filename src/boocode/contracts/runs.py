"""An agent run: a chat turn, a background subagent or an agent inside a workflow."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RunKind(StrEnum):
    TURN = "turn"
    SUBAGENT = "subagent"
    WORKFLOW = "workflow"
    WORKFLOW_AGENT = "workflow_agent"
