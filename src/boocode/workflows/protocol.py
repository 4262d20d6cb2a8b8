"""The JSON lines between the host and its workflow child, one model per message."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter
from pydantic.alias_generators import to_camel

from boocode.workflows.host import AgentOptions
from boocode.workflows.limits import MIB

MAX_LINE_BYTES = 64 * 1024 * 1024


class RuntimeConfig(BaseModel):
    """What runtime.js builds the script's globals from."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    args: JsonValue
    budget_total: int | None
    spent: int
    max_items: int


class StartRun(BaseModel):
    """Host → child, the first line: what to run and within which limits."""

    type: Literal["start"] = "start"
    body: str
    memory_bytes: int
    runtime: RuntimeConfig


class Reply(BaseModel):
    """Host → child: the answer to one request, with the tokens spent so far."""

    type: Literal["reply"] = "reply"
    id: int
    ok: bool
    value: JsonValue = None
    error: str | None = None
    spent: int


class AgentRequest(BaseModel):
    type: Literal["agent"]
    id: int
    prompt: str
    options: AgentOptions


class WorkflowRequest(BaseModel):
    """`workflow(name, args)`: the host loads that workflow; the child runs it inline."""

    type: Literal["workflow"]
    id: int
    name: str


class NestedScript(BaseModel):
    """The reply to a `WorkflowRequest`: the checked body the child runs with its own args."""

    name: str
    body: str


class LogEvent(BaseModel):
    type: Literal["log"]
    message: str


class PhaseEvent(BaseModel):
    type: Literal["phase"]
    title: str


class Finished(BaseModel):
    """Child → host, the last line."""

    type: Literal["finished"] = "finished"
    ok: bool
    result: JsonValue = None
    error: str | None = None
    line: int | None = None
    memory: bool = False

    @classmethod
    def out_of_memory(cls, memory_bytes: int) -> Finished:
        limit_mib = memory_bytes // MIB
        return cls(
            ok=False, memory=True, error=f"the script used more than its {limit_mib} MiB of memory"
        )


HostRequest = AgentRequest | WorkflowRequest
ScriptMessage = Annotated[HostRequest | LogEvent | PhaseEvent, Field(discriminator="type")]
ChildMessage = Annotated[
    HostRequest | LogEvent | PhaseEvent | Finished, Field(discriminator="type")
]

SCRIPT_MESSAGE: TypeAdapter[ScriptMessage] = TypeAdapter(cast(Any, ScriptMessage))
CHILD_MESSAGE: TypeAdapter[ChildMessage] = TypeAdapter(cast(Any, ChildMessage))
