"""REST bodies for chats and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from boocode.contracts.runs import RunStatus
from boocode.contracts.usage import TokenUsage


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ServerInfo(BaseModel):
    """What a new chat starts with: the workspace the agent works in and its model."""

    version: str
    workspace: str
    model: str
    model_label: str
    is_demo: bool


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
    workspace: str = Field(default="", description="the directory the agent works in")
    archived: bool = False
    branch_id: int = Field(default=0, description="the branch the chat continues on")


class ChatUpdate(BaseModel):
    """`PATCH /api/chats/{id}`: rename, archive or unarchive; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    archived: bool | None = None

    @field_validator("title")
    @classmethod
    def _title_has_text(cls, title: str | None) -> str | None:
        if title is None:
            return None
        title = " ".join(title.split())
        if not title:
            raise ValueError("a title needs at least one visible character")
        return title


MAX_CHAT_PAGE = 200
_CHAT_CURSOR = r"^[0-9]{1,17}\.[A-Za-z0-9_-]{1,32}$"


class ChatQuery(BaseModel):
    """The query string of `GET /api/chats`; an unknown parameter is refused."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=MAX_CHAT_PAGE)
    cursor: str | None = Field(
        default=None,
        pattern=_CHAT_CURSOR,
        description="the `next_cursor` of the page before",
    )
    q: str | None = Field(
        default=None, max_length=200, description="only chats whose title contains this text"
    )
    archived: bool = Field(default=False, description="list the archived chats instead")


class ChatPage(BaseModel):
    """Most recently active first; pass `next_cursor` back as `?cursor=` for the next page."""

    items: list[ChatOut]
    next_cursor: str | None = None


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
    cancelled: bool = Field(
        default=False, description="a tool result: the call was stopped by a cancel"
    )
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
