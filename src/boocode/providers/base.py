"""The interface every model implementation (real endpoint or demo) provides."""

from __future__ import annotations

from typing import Any, Protocol

from boocode.providers.types import DeltaSink, ModelResponse


class ChatModel(Protocol):
    """A chat model that takes OpenAI-format messages and tool schemas.

    `complete` streams text and reasoning through `on_delta` as they arrive and returns the
    assembled response; it raises `ProviderError` on failure.
    """

    name: str
    is_demo: bool
    label: str

    async def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: DeltaSink | None = None,
    ) -> ModelResponse: ...
