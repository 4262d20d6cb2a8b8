"""What a model call's trace keeps: what the model received and everything it returned.

The input holds the messages new since the previous model call (everything after the last
assistant message: the user's message, tool results), the system prompt and the tool schemas;
the viewer shows the new messages and the rest on demand. The output's text is the trace's
`output`; reasoning and tool calls with their arguments go in its `extra`.
"""

from __future__ import annotations

from typing import Any

from boocode.providers.types import ModelResponse


def model_call_input(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]], iteration: int
) -> dict[str, Any]:
    """The request of one model call, shaped for the trace viewer."""
    system = [m["content"] for m in messages if m.get("role") == "system"]
    conversation = [m for m in messages if m.get("role") != "system"]
    last_reply = max(
        (i for i, m in enumerate(conversation) if m.get("role") == "assistant"), default=-1
    )
    return {
        "iteration": iteration,
        "message_count": len(messages),
        "new_messages": conversation[last_reply + 1 :],
        "system": "\n\n".join(str(part) for part in system),
        "tools": tools,
    }


def model_call_output(response: ModelResponse) -> dict[str, Any]:
    """What the model returned besides its text: reasoning and the tool calls it asked for."""
    return {
        "reasoning": response.reasoning or None,
        "tool_calls": [
            {"id": call.id, "name": call.name, "arguments": call.arguments}
            for call in response.tool_calls
        ],
    }
