"""What a running turn needs from its process: storage, the event log, models, tools.

DBOS workflows and steps are module-level functions whose arguments are persisted, so the
process-wide services they use are installed here once at start-up rather than passed in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boocode.agent.instrument import CallTracer, UntracedCalls
from boocode.config import Settings
from boocode.db.engine import Database
from boocode.events.bus import EventBus
from boocode.events.log import EventLog
from boocode.providers import ChatModel, create_model
from boocode.sandbox import sandbox_for
from boocode.tools import ToolRegistry
from boocode.tools.run_command import ProcessObserver

TurnHook = Callable[[str, int], Awaitable[None]]


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
    # Called after every turn ends (snapshots, telemetry); each gets (chat_id, turn).
    turn_end_hooks: list[TurnHook] = field(default_factory=list)
    # Called after each tool phase of a turn, with the same arguments.
    tool_phase_hooks: list[TurnHook] = field(default_factory=list)
    # Extra services keyed by name (the OTLP exporter).
    services: dict[str, Any] = field(default_factory=dict)
    _cancels: dict[str, asyncio.Event] = field(default_factory=dict)
    _models: dict[Path, ChatModel] = field(default_factory=dict)

    def model(self, workspace: Path) -> ChatModel:
        """One model client per workspace for the life of the process (it pools connections)."""
        if workspace not in self._models:
            self._models[workspace] = model_for(self.settings, workspace)
        return self._models[workspace]

    def tools(
        self, workspace: Path, *, on_process_start: ProcessObserver | None = None
    ) -> ToolRegistry:
        return ToolRegistry(
            workspace,
            command_timeout_s=self.settings.command_timeout_s,
            sandbox=sandbox_for(self.settings, workspace),
            on_process_start=on_process_start,
        )

    async def close(self) -> None:
        for model in self._models.values():
            if (aclose := getattr(model, "aclose", None)) is not None:
                await aclose()
        self._models.clear()

    def cancel_event(self, task_id: str) -> asyncio.Event:
        return self._cancels.setdefault(task_id, asyncio.Event())

    def forget_cancel(self, task_id: str) -> None:
        self._cancels.pop(task_id, None)


def model_for(settings: Settings, workspace: Path) -> ChatModel:
    """The model the settings select: an OpenAI-compatible endpoint, or the offline demo."""
    return create_model(
        base_url=settings.base_url,
        api_key=settings.api_key,
        model=settings.model,
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
