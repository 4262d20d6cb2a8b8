"""Attachments as they cross a boundary: what an upload returns and what a message carries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

# An attachment id as the server hands it out: `att_` and 24 hex digits.
ATTACHMENT_ID_PATTERN = r"^att_[0-9a-f]{24}$"


class AttachmentKind(StrEnum):
    IMAGE = "image"
    TEXT = "text"


class AttachmentOut(BaseModel):
    """A stored file; `url` serves its bytes (with the access token, like every `/api` call)."""

    id: str = Field(pattern=ATTACHMENT_ID_PATTERN)
    kind: AttachmentKind
    name: str
    media_type: str
    size: int = Field(description="bytes of the original file")
    sha256: str
    width: int | None = None
    height: int | None = None
    downscaled: bool = Field(
        default=False, description="the model gets a smaller copy; the original is kept"
    )
    url: str
    created_at: datetime
    description: str | None = Field(
        default=None, description="what `described_by` saw, sent in place of the image"
    )
    described_by: str | None = Field(
        default=None, description="the vision model that described it for a text-only model"
    )
