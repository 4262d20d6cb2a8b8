"""REST bodies for chats and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from boocode.contracts.runs import RunStatus
from boocode.contracts.usage import TokenUsage


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ChatCreate(BaseModel):
    title: str | None = Field(default=None, max_length=200)


class ChatOut(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    model: str
    model_label: str
    is_demo: bool
    autofix: bool | None = None


class ImagePart(BaseModel):
    """An image attached to a user message, as a data URL (`data:image/png;base64,...`)."""

    data_url: str = Field(pattern=r"^data:image/(png|jpeg|gif|webp);base64,")


class MessageCreate(BaseModel):
    content: str = Field(min_length=1, max_length=200_000)
    images: list[ImagePart] = Field(default_factory=list, max_length=8)


class ToolCallOut(BaseModel):
    id: str
    name: str
    arguments: str


class MessageOut(BaseModel):
    id: int
    turn: int
    role: Literal["user", "assistant", "tool", "system"]
    content: Any
    reasoning: str | None = None
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    tool_call_id: str | None = None
    tool_name: str | None = None
    is_error: bool = False
    usage: TokenUsage | None = None
    model: str | None = None
    created_at: datetime


# A chat turn is an agent run of kind `turn`: its status is a run's status.
TurnStatus = RunStatus


class TurnAccepted(BaseModel):
    turn: int
    task_id: str


class CancelResult(BaseModel):
    cancelled: bool
    turn: int | None = None


class ErrorBody(BaseModel):
    detail: str
