"""What every WebSocket frame carries, what every request body shares, and integer bounds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

INT32_MAX = 2**31 - 1
"""The largest turn number or branch id a request may name: both are 32-bit columns."""
INT64_MAX = 2**63 - 1
"""The largest row id (a trace id) a request may name."""


class RequestBody(BaseModel):
    """A JSON request body, taken strictly: `0` is not `false` and `"3"` is not `3`."""

    model_config = ConfigDict(strict=True)


class FrameBase(BaseModel):
    chat_id: str
    seq: int = 0
