"""What a model call returns, and the callback that receives its streamed deltas."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from boocode.providers.usage import Usage

DeltaKind = Literal["text", "reasoning"]
DeltaSink = Callable[[DeltaKind, str], Awaitable[None]]


class ToolCall(BaseModel):
    """One function call the model asked for; `arguments` is the JSON text exactly as sent."""

    id: str
    name: str
    arguments: str

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


class ModelResponse(BaseModel):
    """The assembled result of one model call (streamed or not)."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None
    model: str = ""

    def to_message(self, *, include_reasoning: bool = False) -> dict[str, Any]:
        """The assistant message to append to the conversation, in OpenAI chat format.

        `include_reasoning` adds DeepSeek's `reasoning_content`, which its thinking mode wants
        back on assistant messages that carry tool calls within the same turn.
        """
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if include_reasoning and self.reasoning:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [call.to_openai() for call in self.tool_calls]
        return message
