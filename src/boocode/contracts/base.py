"""The fields every WebSocket frame carries."""

from __future__ import annotations

from pydantic import BaseModel


class FrameBase(BaseModel):
    chat_id: str
    seq: int = 0
