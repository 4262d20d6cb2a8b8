"""The model's subagent tools: spawn_subagent, subagent_status, subagent_result."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from boocode.agent.runtime import RunContext, Runtime
from boocode.contracts.runs import RunKind
from boocode.contracts.subagents import Isolation, SubagentOut, SubagentSpec
from boocode.db.chats import headline
from boocode.db.tables import Chat
from boocode.runs.status import FINAL
from boocode.runs.store import ConversationRun
from boocode.subagents import runner, worktree
from boocode.subagents import store as subagents
from boocode.tools import ToolError, ToolResult
from boocode.tools.registry import TOOL_SCHEMAS, openai_tool, parse_arguments

SUBAGENT_TOOLS = ("spawn_subagent", "subagent_status", "subagent_result")
_POLL_S = 0.2

A = TypeVar("A", bound=BaseModel)


class SpawnArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: str = Field(
        min_length=1,
        max_length=100_000,
        description="The whole task: the subagent sees nothing of this conversation.",
    )
    label: str | None = Field(None, max_length=80, description="A short name shown to the user.")
    tools: list[str] | None = Field(
        None, description="Only these of your tools (default: all but the subagent tools)."
    )
    isolation: Literal["none", "worktree"] = Field(
        "none",
        description='"worktree": work in a fresh git worktree, kept on a branch if changed.',
    )


class StatusArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    task_id: str = Field(max_length=64, description="What spawn_subagent returned.")


class ResultArgs(StatusArgs):
    wait_s: float | None = Field(
        None, ge=0, description="Wait up to this many seconds if it is still running."
    )


class SubagentTool(Generic[A]):
    """A run tool (see `boocode.agent.runtime.RunTool`) of the subagent family."""

    def __init__(self, rt: Runtime, name: str, description: str, args: type[A]) -> None:
        self.rt = rt
        self.name = name
        self.args = args
        self.schema = openai_tool(name, description, args)

    def offered(self, chat: Chat) -> bool:
        return chat.depth < self.rt.settings.subagent_max_depth

    def schema_for(self, chat: Chat) -> dict[str, Any]:
        return self.schema

    async def __call__(self, context: RunContext, arguments_json: str) -> ToolResult:
        try:
            args = parse_arguments(self.name, arguments_json, self.args)
            return await self.run(context, args)
        except (ToolError, subagents.SubagentNotFound, worktree.WorktreeError) as exc:
            return ToolResult(content=str(exc), is_error=True)

    async def run(self, context: RunContext, args: A) -> ToolResult:
        raise NotImplementedError


class SpawnSubagent(SubagentTool[SpawnArgs]):
    async def run(self, context: RunContext, args: SpawnArgs) -> ToolResult:
        rt, parent = self.rt, context.chat
        tools = _narrowed(self.rt, parent, args.tools)
        # Derived from the spawning call: the step re-run after a crash finds the same subagent.
        origin = f"{context.run_id}/{context.call_id}"
        digest = hashlib.sha256(origin.encode()).hexdigest()
        run_id = f"sub-{digest[:24]}"
        spec = SubagentSpec(
            prompt=args.prompt,
            label=(args.label or headline(args.prompt, "")).strip() or "subagent",
            tools=tools,
            isolation=Isolation(args.isolation),
            depth=parent.depth + 1,
            spawn_call_id=context.call_id,
        )
        workspace = Path(parent.workspace)
        if spec.isolation is Isolation.WORKTREE:
            plan = await worktree.plan(workspace, digest[:12])
            spec.worktree, spec.branch, spec.base = str(plan.root), plan.branch, plan.base
            spec.subdir = plan.subdir
            workspace = plan.workspace
        out = await subagents.spawn(
            rt.events,
            ConversationRun(
                run_id=run_id,
                kind=RunKind.SUBAGENT,
                conversation_id=digest[32:64],
                owner_chat_id=parent.id,
                parent_run_id=context.run_id,
                workspace=str(workspace),
                model=parent.model,
                prompt=spec.prompt,
                label=spec.label,
                spec=spec.model_dump(mode="json"),
                tools=tools,
                depth=spec.depth,
                report_to=parent.id,
                executor_id=rt.executor_id,
            ),
        )
        await runner.start_subagent(run_id, parent.id)
        return ToolResult(
            content=json.dumps({"task_id": out.task_id, "label": out.label}),
            metadata={"task_id": out.task_id, "conversation_id": out.conversation_id},
        )


class SubagentStatus(SubagentTool[StatusArgs]):
    async def run(self, context: RunContext, args: StatusArgs) -> ToolResult:
        out = await _of_chat(self.rt, context.chat, args.task_id)
        return ToolResult(content=_status_json(out))


class SubagentResultTool(SubagentTool[ResultArgs]):
    async def run(self, context: RunContext, args: ResultArgs) -> ToolResult:
        limit = min(args.wait_s or 0.0, self.rt.settings.subagent_result_wait_s)
        deadline = time.monotonic() + limit
        out = await _of_chat(self.rt, context.chat, args.task_id)
        while out.status not in FINAL and time.monotonic() < deadline:
            await asyncio.sleep(_POLL_S)
            out = await _of_chat(self.rt, context.chat, args.task_id)
        if out.status not in FINAL:
            return ToolResult(
                content=f"still {out.status.value} after {limit:.0f} s; its result will arrive "
                "in this conversation by itself when it ends\n" + _status_json(out)
            )
        if out.answer is None:  # ended, its result not stored yet: a moment away
            await asyncio.sleep(_POLL_S)
            out = await _of_chat(self.rt, context.chat, args.task_id)
        # The model has the result now: no notification repeats it.
        await subagents.mark_delivered(self.rt.db, out.task_id)
        body: dict[str, Any] = {"status": out.status.value, "answer": out.answer or ""}
        if out.error:
            body["error"] = out.error
        if out.worktree is not None:
            body["worktree"] = out.worktree.model_dump(mode="json")
        return ToolResult(content=json.dumps(body, ensure_ascii=False), is_error=bool(out.error))


def subagent_tools(rt: Runtime) -> list[SubagentTool[Any]]:
    return [
        SpawnSubagent(
            rt,
            "spawn_subagent",
            "Start a background subagent on a side task (investigate, read a subsystem, try a "
            "fix in isolation) and return its task_id at once; go on with your own work. Its "
            "result arrives in this conversation by itself when it ends: do not poll for it. "
            "Give it the whole task in the prompt: it sees nothing of this conversation.",
            SpawnArgs,
        ),
        SubagentStatus(
            rt,
            "subagent_status",
            "Status, elapsed time, tool calls and tokens of a subagent. Rarely needed: its "
            "result arrives by itself; do not call this in a loop.",
            StatusArgs,
        ),
        SubagentResultTool(
            rt,
            "subagent_result",
            "A subagent's final answer, or its error; with wait_s, wait that long if it still "
            "runs. Use it only when you cannot go on without the result: it arrives by itself.",
            ResultArgs,
        ),
    ]


def _narrowed(rt: Runtime, parent: Chat, asked: list[str] | None) -> list[str]:
    """The subagent's tools: what was asked, within what the parent has; by default the
    parent's tools, the subagent tools only where the depth limit allows one more level."""
    parent_tools = (
        list(parent.tools)
        if parent.tools is not None
        else [schema["function"]["name"] for schema in TOOL_SCHEMAS] + list(SUBAGENT_TOOLS)
    )
    nests = parent.depth + 1 < rt.settings.subagent_max_depth
    available = [name for name in parent_tools if nests or name not in SUBAGENT_TOOLS]
    if asked is None:
        return available
    unknown = [name for name in asked if name not in available]
    if unknown:
        raise ToolError(
            f"tools {', '.join(map(repr, unknown))} cannot be given to a subagent; "
            f"choose from: {', '.join(available)}"
        )
    return list(dict.fromkeys(asked))


async def _of_chat(rt: Runtime, chat: Chat, task_id: str) -> SubagentOut:
    run = await subagents.get(rt.db, task_id)
    if run.parent_chat_id != chat.id:
        raise subagents.SubagentNotFound(task_id)
    progress = await subagents.progress(rt.db, [run])
    return subagents.to_out(run, progress[run.chat_id])


def _status_json(out: SubagentOut) -> str:
    return json.dumps(
        {
            "task_id": out.task_id,
            "label": out.label,
            "status": out.status.value,
            "elapsed_s": out.elapsed_s,
            "tool_calls": out.tool_calls,
            "tokens": out.usage.total_tokens,
        }
    )
