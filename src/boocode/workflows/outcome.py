"""How a workflow run ended."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, JsonValue


class ScriptStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    MEMORY = "memory"


class ScriptOutcome(BaseModel):
    """The script's JSON result, or one line saying why it has none (with its line when known)."""

    model_config = ConfigDict(frozen=True)

    status: ScriptStatus
    result: JsonValue = None
    error: str | None = None
    line: int | None = None
