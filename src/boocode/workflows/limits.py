"""The limits of one workflow run."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

MIB = 1024 * 1024
# Per parallel()/pipeline() call; beyond it the call throws rather than truncating.
MAX_ITEMS = 4096


def _default_concurrency() -> int:
    return min(16, max(1, (os.cpu_count() or 1) - 2))


class ScriptLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    deadline_s: float = Field(default=4 * 3600, gt=0)
    memory_bytes: int = Field(default=256 * MIB, ge=16 * MIB)
    max_concurrent_agents: int = Field(default_factory=_default_concurrency, ge=1)
    max_agent_calls: int = Field(default=1000, ge=1)
    budget_tokens: int | None = Field(default=None, ge=0)
