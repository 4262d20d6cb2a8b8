"""Workflow runs: what starts one, what a client sees of it, the frame of each change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator
from pydantic.json_schema import JsonDict

from boocode.contracts.base import FrameBase, RequestBody
from boocode.contracts.runs import RunStatus
from boocode.contracts.usage import TokenUsage

# Exactly one of `name` and `script` is a string (the other absent or null), as `_one_source`
# checks: said in the schema too, so a client or a fuzzer knows it before it asks.
_ONE_SOURCE: JsonDict = {
    "oneOf": [
        {"required": [one], "properties": {one: {"type": "string"}, other: {"type": "null"}}}
        for one, other in (("name", "script"), ("script", "name"))
    ]
}
# The largest integer a script's `budget.total` (a JavaScript number) holds exactly.
MAX_SAFE_INTEGER = 2**53 - 1
_SCRIPT_EXAMPLE = (
    "export const meta = { name: 'echo', description: 'returns its args' }\nreturn args"
)


class WorkflowStart(RequestBody):
    """`POST /api/chats/{id}/workflows`: a workflow by name, or a script; exactly one.

    A name must be one the catalog lists (`GET /api/workflows`), a script must load (its
    `meta` a literal), and `resume_from` must name a run: each is refused with 422 otherwise.
    """

    model_config = ConfigDict(json_schema_extra=_ONE_SOURCE)

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="a workflow of the catalog, `GET /api/workflows`",
        examples=["deep-research"],
    )
    script: str | None = Field(
        default=None,
        min_length=1,
        max_length=1_000_000,
        description="a workflow script: `export const meta = {name, description}`, then its body",
        examples=[_SCRIPT_EXAMPLE],
    )
    args: JsonValue = None
    budget: int | None = Field(
        default=None,
        ge=1,
        le=MAX_SAFE_INTEGER,
        description="output tokens of all its agents; the script reads it as a JS number",
    )
    resume_from: str | None = Field(
        default=None, max_length=64, description="a run whose unchanged agents' results are reused"
    )

    @model_validator(mode="after")
    def _one_source(self) -> WorkflowStart:
        if (self.name is None) == (self.script is None):
            raise ValueError("give exactly one of name and script")
        return self


class WorkflowPhase(BaseModel):
    """A phase its script's `meta.phases` declares; `model` is its agents' default model."""

    title: str
    detail: str | None = None
    model: str | None = None


class WorkflowSpec(BaseModel):
    """What a workflow run was started with, stored on its record."""

    name: str
    source: str
    args: JsonValue = None
    budget: int | None = None
    resume_from: str | None = None
    phases: list[WorkflowPhase] = Field(default_factory=list)


class WorkflowAgentSpec(BaseModel):
    """One `agent()` call as stored on its run."""

    prompt: str
    label: str
    phase: str | None = None
    model: str | None = None
    effort: str | None = None
    isolation: str | None = None
    agent_type: str | None = None
    output_schema: dict[str, Any] | None = None
    occurrence: int = 0
    # isolation "worktree": where its worktree goes, its branch, the commit it starts from.
    worktree: str | None = None
    branch: str | None = None
    base: str | None = None
    subdir: str = ""


class WorkflowAgentResult(BaseModel):
    value: JsonValue = None
    # Copied from an earlier run with the same key instead of run again.
    cached_from: str | None = None


class WorkflowAgentOut(BaseModel):
    task_id: str
    conversation_id: str
    label: str
    phase: str | None = None
    status: RunStatus
    model: str | None = None
    cached: bool = False
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    elapsed_s: float = 0.0
    usage: TokenUsage = Field(default_factory=TokenUsage)
    error: str | None = None


LogKind = Literal["log", "phase", "warning"]


class WorkflowLogEntry(BaseModel):
    kind: LogKind
    text: str
    created_at: datetime


class WorkflowResult(BaseModel):
    value: JsonValue = None
    error: str | None = None
    line: int | None = None


class WorkflowRunOut(BaseModel):
    run_id: str
    chat_id: str
    name: str
    status: RunStatus
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    budget: int | None = None
    spent: int = Field(default=0, description="output tokens of its agents so far")
    result: JsonValue = None
    error: str | None = None
    resume_from: str | None = None
    args: JsonValue = Field(default=None, description="the arguments it was started with")
    phases: list[WorkflowPhase] = Field(
        default_factory=list, description="the phases its script declares, in order"
    )


class WorkflowRunDetail(WorkflowRunOut):
    agents: list[WorkflowAgentOut]
    log: list[WorkflowLogEntry]


class WorkflowRunList(BaseModel):
    runs: list[WorkflowRunOut]


class WorkflowInfo(BaseModel):
    name: str
    description: str | None = None
    when_to_use: str | None = None
    source: str = Field(description="project, global or builtin")
    path: str
    error: str | None = None


class WorkflowCatalog(BaseModel):
    workflows: list[WorkflowInfo]


class WorkflowCancelResult(BaseModel):
    run_id: str
    cancelled: bool = Field(description="false when it had already ended")


WorkflowEvent = Literal["started", "agent", "log", "ended"]


class WorkflowFrame(FrameBase):
    """A workflow run of the chat changed: started, an agent started or ended, a log line, ended."""

    type: Literal["workflow"] = "workflow"
    event: WorkflowEvent
    run: WorkflowRunOut
    agent: WorkflowAgentOut | None = None
    entry: WorkflowLogEntry | None = None
