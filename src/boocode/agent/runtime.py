"""What a running turn needs from its process: storage, the event log, models, tools.

DBOS workflows and steps are module-level functions whose arguments are persisted, so the
process-wide services they use are installed here once at start-up rather than passed in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from boocode.agent.instrument import CallTracer, UntracedCalls
from boocode.config import Settings
from boocode.db.engine import Database
from boocode.db.tables import Chat
from boocode.events.bus import EventBus
from boocode.events.log import EventLog
from boocode.providers import ChatModel, create_model
from boocode.runs.cancels import CancelWatch
from boocode.sandbox import sandbox_for
from boocode.tools import ToolRegistry, ToolResult
from boocode.tools.run_command import ProcessObserver

TurnHook = Callable[[str, int], Awaitable[None]]


@dataclass(frozen=True)
class RunContext:
    """Where a run tool was called from: the run, its chat, the turn and the call."""

    run_id: str
    chat: Chat
    turn: int
    call_id: str


class RunTool(Protocol):
    """A tool that acts on runs (spawning a subagent) rather than on the workspace."""

    name: str

    def offered(self, chat: Chat) -> bool:
        """Whether the model of `chat` is offered this tool (its depth allows it)."""
        ...

    def schema_for(self, chat: Chat) -> dict[str, Any]:
        """The tool in OpenAI "tools" format, as the model of `chat` is offered it."""
        ...

    async def __call__(self, context: RunContext, arguments_json: str) -> ToolResult: ...


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: EventBus
    events: EventLog
    tracer: CallTracer = field(default_factory=UntracedCalls)
    # False in an API-only process: its turns go to the queue that workers run.
    process_turns: bool = True
    # This process's DBOS executor id (see boocode.runs.executor).
    executor_id: str | None = None
    # Cancel requests of the runs this process runs, in memory.
    cancels: CancelWatch = field(init=False)
    # Called after every run's loop ends (telemetry); each gets (chat_id, turn).
    turn_end_hooks: list[TurnHook] = field(default_factory=list)
    # Called after a turn of a user's chat ends, not an agent's conversation (snapshots,
    # waking the chat on notifications), with the same arguments.
    chat_turn_end_hooks: list[TurnHook] = field(default_factory=list)
    # Called in each model-call step before the request is built, with the same arguments.
    model_call_hooks: list[TurnHook] = field(default_factory=list)
    # Tools that act on runs, by name (boocode.subagents installs its own).
    run_tools: dict[str, RunTool] = field(default_factory=dict)
    # Extra services keyed by name (the OTLP exporter).
    services: dict[str, Any] = field(default_factory=dict)
    _models: dict[tuple[Path, str | None, str | None], ChatModel] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cancels = CancelWatch(self.db)

    def model(
        self, workspace: Path, name: str | None = None, effort: str | None = None
    ) -> ChatModel:
        """One model client per workspace (and model name and reasoning effort, when an agent
        asks for its own) for the life of the process: it pools connections."""
        key = (workspace, name, effort)
        if key not in self._models:
            self._models[key] = model_for(self.settings, workspace, name, effort)
        return self._models[key]

    def tools(
        self, workspace: Path, *, on_process_start: ProcessObserver | None = None
    ) -> ToolRegistry:
        return ToolRegistry(
            workspace,
            command_timeout_s=self.settings.command_timeout_s,
            sandbox=sandbox_for(self.settings, workspace),
            on_process_start=on_process_start,
        )

    def tool_schemas(self, chat: Chat) -> list[dict[str, Any]]:
        """The tools the model of `chat` is offered, in a fixed order: the same bytes on every
        call of the chat, so the provider's prompt cache keeps its prefix."""
        allowed = None if chat.tools is None else set(chat.tools)
        schemas = [
            schema
            for schema in self.tools(Path(chat.workspace)).schemas()
            if allowed is None or schema["function"]["name"] in allowed
        ]
        for name, tool in self.run_tools.items():
            if (allowed is None or name in allowed) and tool.offered(chat):
                schemas.append(tool.schema_for(chat))
        return schemas

    async def close(self) -> None:
        for model in self._models.values():
            if (aclose := getattr(model, "aclose", None)) is not None:
                await aclose()
        self._models.clear()


def model_for(
    settings: Settings, workspace: Path, name: str | None = None, effort: str | None = None
) -> ChatModel:
    """The model the settings select: an OpenAI-compatible endpoint, or the offline demo;
    `name` and `effort` override the model name and ask for a reasoning effort."""
    return create_model(
        base_url=settings.base_url,
        api_key=settings.api_key,
        model=name or settings.model,
        effort=effort,
        deepseek_api_key=settings.deepseek_api_key,
        workspace=workspace,
        demo_delay_s=settings.demo_delay_s,
        idle_timeout_s=settings.model_idle_timeout_s,
    )


_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the BooCode runtime is not started")
    return _current
