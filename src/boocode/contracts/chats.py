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


class ErrorBody(BaseModel):
    """Every 4xx answer: what went wrong in one line, and for a 422 each invalid input."""

    detail: str
    errors: list[str] = Field(
        default_factory=list, description="a 422's invalid inputs, one `where: what` line each"
    )
