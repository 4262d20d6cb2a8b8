"""The workflow tools a model is offered: `run_workflow` (start one in the background, hear of
its end later) and `submit_result` (an agent's structured output)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from boocode.agent.runtime import RunContext, Runtime
from boocode.contracts.workflows import WorkflowStart
from boocode.db.tables import Chat
from boocode.tools import ToolError, ToolResult
from boocode.tools.registry import openai_tool, parse_arguments
from boocode.workflows import service
from boocode.workflows.structured import SubmitResult

RUN_WORKFLOW = "run_workflow"
_DESCRIPTION = (
    "Start a workflow (a script that fans work out to many agents) in the background and get "
    "its run_id at once. Name one of the project's or built-in workflows (deep-research, "
    "multi-review, fix-failing-tests, …) or give a script. Its result arrives in this "
    "conversation by itself when it ends: do not poll for it."
)


class RunWorkflowArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="A workflow's name.")
    script: str | None = Field(None, description="Or a whole workflow script.")
    args: JsonValue = Field(None, description="The script's `args`.")
    resume_from: str | None = Field(
        None, description="An earlier run_id: its unchanged agents' results are reused."
    )


class RunWorkflow:
    """A run tool (`boocode.agent.runtime.RunTool`) for a user's chat (not its subagents)."""

    name = RUN_WORKFLOW

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.schema = openai_tool(RUN_WORKFLOW, _DESCRIPTION, RunWorkflowArgs)

    def offered(self, chat: Chat) -> bool:
        return chat.parent_chat_id is None

    def schema_for(self, chat: Chat) -> dict[str, Any]:
        return self.schema

    async def __call__(self, context: RunContext, arguments_json: str) -> ToolResult:
        try:
            args = parse_arguments(RUN_WORKFLOW, arguments_json, RunWorkflowArgs)
            body = WorkflowStart.model_validate(args.model_dump(), strict=False)
            run = await service.start(self.rt, context.chat, body, home=Path.home(), report=True)
        except (ToolError, service.WorkflowRefused) as exc:
            return ToolResult(content=str(exc), is_error=True)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            return ToolResult(
                content=f"invalid arguments for {RUN_WORKFLOW}: {problem}", is_error=True
            )
        return ToolResult(
            content=json.dumps({"run_id": run.run_id, "name": run.name}),
            metadata={"run_id": run.run_id},
        )


def install(rt: Runtime) -> None:
    for tool in (SubmitResult(rt), RunWorkflow(rt)):
        rt.run_tools[tool.name] = tool
