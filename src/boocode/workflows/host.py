"""What a workflow script reaches outside its sandbox: the host the engine implements."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from boocode.workflows.script import Script


class AgentOptions(BaseModel):
    """The options of `agent(prompt, opts)`; `phase` defaults to the script's current phase."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    label: str | None = None
    phase: str | None = None
    output_schema: dict[str, JsonValue] | None = Field(default=None, alias="schema")
    model: str | None = None
    effort: str | None = None
    isolation: str | None = None
    agent_type: str | None = Field(default=None, alias="agentType")


class ScriptCancelled(Exception):
    """Raised by a host method to stop the whole run: `cancelled`, with this message."""


class WorkflowHost(Protocol):
    async def agent(self, prompt: str, options: AgentOptions) -> JsonValue:
        """Run one agent; its text, the object its schema validated, or None.

        Any other exception rejects the script's `agent()` promise with its message.
        """

    async def load_workflow(self, name_or_ref: str) -> Script:
        """The checked script of another workflow, which the script runs inline (`workflow()`).

        Any exception rejects the script's `workflow()` promise with its message.
        """

    def log(self, message: str) -> None: ...

    def phase(self, title: str) -> None: ...

    def tokens_spent(self) -> int:
        """Tokens spent so far against the run's budget (read after every agent call)."""
