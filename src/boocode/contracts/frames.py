"""WebSocket frames: one discriminated union on `type`.

Every frame carries the chat id and a `seq` that grows by one per chat; the event log assigns it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, Field, TypeAdapter

from boocode.contracts.autofix import AutofixFrame
from boocode.contracts.base import FrameBase
from boocode.contracts.chats import ChatOut, MessageOut, TurnStatus
from boocode.contracts.sessions import SessionSnapshot
from boocode.contracts.subagents import SubagentFrame
from boocode.contracts.traces import ToolTraceFinishFrame, ToolTraceStartFrame
from boocode.contracts.usage import TokenUsage
from boocode.contracts.workflows import WorkflowFrame


class TurnState(BaseModel):
    """A turn in progress, as a client needs it to draw the turn mid-flight."""

    turn: int
    task_id: str
    status: TurnStatus
    text: str = ""
    reasoning: str = ""


class SnapshotFrame(FrameBase):
    type: Literal["snapshot"] = "snapshot"
    chat: ChatOut
    messages: list[MessageOut]
    turn: TurnState | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    session: SessionSnapshot | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class TurnStartFrame(FrameBase):
    type: Literal["turn_start"] = "turn_start"
    turn: int
    task_id: str


class _StreamedText(FrameBase):
    turn: int
    text: str
    restart: bool = Field(
        default=False,
        description="first delta of a model call: it replaces what streamed since the last message",
    )


class MessageDeltaFrame(_StreamedText):
    type: Literal["message_delta"] = "message_delta"


class ReasoningDeltaFrame(_StreamedText):
    type: Literal["reasoning_delta"] = "reasoning_delta"


class MessageFrame(FrameBase):
    type: Literal["message"] = "message"
    message: MessageOut


class TurnEndFrame(FrameBase):
    type: Literal["turn_end"] = "turn_end"
    turn: int
    status: TurnStatus
    usage: TokenUsage = Field(default_factory=TokenUsage)
    error: str | None = None


class ErrorFrame(FrameBase):
    type: Literal["error"] = "error"
    message: str
    turn: int | None = None


Frame = Annotated[
    SnapshotFrame
    | TurnStartFrame
    | MessageDeltaFrame
    | ReasoningDeltaFrame
    | MessageFrame
    | TurnEndFrame
    | ErrorFrame
    | ToolTraceStartFrame
    | ToolTraceFinishFrame
    | AutofixFrame
    | SubagentFrame
    | WorkflowFrame,
    Field(discriminator="type"),
]

# cast: mypy reads an Annotated union as a value, not a type, in some cache states.
frame_adapter: TypeAdapter[Frame] = TypeAdapter(cast(Any, Frame))
