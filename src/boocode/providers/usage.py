"""Reading token usage as OpenAI-compatible endpoints report it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boocode.contracts.usage import TokenUsage


class Usage(TokenUsage):
    """`TokenUsage` (the contract type) built from an endpoint's `usage` object.

    `cache_hit_tokens + cache_miss_tokens == prompt_tokens` whenever the endpoint reports them.
    """

    @classmethod
    def from_openai(cls, raw: object) -> Usage:
        """Read a `usage` object or dict as DeepSeek or OpenAI report it; missing fields are 0.

        DeepSeek: `prompt_cache_hit_tokens` / `prompt_cache_miss_tokens`.
        OpenAI: `prompt_tokens_details.cached_tokens` (the rest of the prompt is a miss).
        Both: `completion_tokens_details.reasoning_tokens`.
        """
        data = _as_dict(raw)
        prompt = _count(data.get("prompt_tokens"))
        hit_value = data.get("prompt_cache_hit_tokens")
        if hit_value is None:
            hit_value = _as_dict(data.get("prompt_tokens_details")).get("cached_tokens")
        hit = _count(hit_value)
        miss_value = data.get("prompt_cache_miss_tokens")
        miss = _count(miss_value) if miss_value is not None else max(prompt - hit, 0)
        reasoning = _as_dict(data.get("completion_tokens_details")).get("reasoning_tokens")
        return cls(
            prompt_tokens=prompt,
            completion_tokens=_count(data.get("completion_tokens")),
            cache_hit_tokens=hit,
            cache_miss_tokens=miss,
            reasoning_tokens=_count(reasoning),
        )


def _as_dict(raw: object) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    # SDK objects keep fields they do not declare (DeepSeek's cache counts) in model_extra;
    # model_dump() returns those too.
    model_dump = getattr(raw, "model_dump", None)
    if callable(model_dump):
        dumped = model_dump()
        if isinstance(dumped, dict):
            return dumped
    return {}


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)
