"""REST bodies for chats and messages."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from boocode.contracts.attachments import ATTACHMENT_ID_PATTERN, AttachmentOut
from boocode.contracts.base import RequestBody
from boocode.contracts.runs import RunStatus
from boocode.contracts.usage import TokenUsage

# A character that is not whitespace, spelled out so that JSON Schema and Python agree on it.
NOT_BLANK = r"[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_NOT_BLANK = re.compile(NOT_BLANK)


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ServerInfo(BaseModel):
    """What a new chat starts with: the workspace the agent works in and its model."""

    version: str
    workspace: str
    model: str
    model_label: str
    is_demo: bool


class ChatCreate(RequestBody):
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


class ChatUpdate(RequestBody):
    """`PATCH /api/chats/{id}`: rename, archive or unarchive; absent fields stay as they are."""

    model_config = ConfigDict(strict=True, extra="forbid")

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


class MessageCreate(RequestBody):
    """A user message; files go up first (`POST /api/chats/{id}/attachments`), then by id here."""

    model_config = ConfigDict(strict=True, extra="forbid")

    content: str = Field(
        max_length=200_000,
        description="what to ask the agent; it must hold more than whitespace",
        json_schema_extra={"pattern": NOT_BLANK},
    )
    attachments: list[Annotated[str, Field(pattern=ATTACHMENT_ID_PATTERN)]] = Field(
        default_factory=list, max_length=64
    )

    @model_validator(mode="before")
    @classmethod
    def _no_inline_images(cls, data: Any) -> Any:
        if isinstance(data, dict) and "images" in data:
            raise ValueError(
                "inline images are not accepted: upload each file to "
                "POST /api/chats/{id}/attachments and list the ids in `attachments`"
            )
        return data

    @property
    def attachment_ids(self) -> list[str]:
        return list(dict.fromkeys(self.attachments))  # a file attached twice is sent once

    @field_validator("content")
    @classmethod
    def _not_blank(cls, content: str) -> str:
        if not _NOT_BLANK.search(content):
            raise ValueError("the message is empty: say what the agent should do")
        return content


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
    attachments: list[AttachmentOut] = Field(default_factory=list)


# A chat turn is an agent run of kind `turn`: its status is a run's status.
TurnStatus = RunStatus


class TurnAccepted(BaseModel):
    turn: int
    task_id: str


class CancelResult(BaseModel):
    cancelled: bool
    turn: int | None = None
    subagents: int = Field(default=0, description="subagents asked to stop with the turn")


class ErrorBody(BaseModel):
    """Every 4xx answer: what went wrong in one line, and for a 422 each invalid input."""

    detail: str
    errors: list[str] = Field(
        default_factory=list, description="a 422's invalid inputs, one `where: what` line each"
    )
