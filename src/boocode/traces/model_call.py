"""What a model call's trace keeps: what the model received and everything it returned.

The input holds the messages new since the previous model call (everything after the last
assistant message: the user's message, tool results), the system prompt and the tool schemas;
the viewer shows the new messages and the rest on demand. An attachment's part (an image's data
URL, a text file's contents) is kept as a reference to the stored attachment instead, so a call
with images stays a small row. The output's text is the trace's `output`; reasoning and tool
calls with their arguments go in its `extra`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from boocode.contracts.attachments import AttachmentKind
from boocode.providers.types import ModelResponse


def model_call_input(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    iteration: int,
    attachments: Sequence[list[dict[str, Any]]] = (),
) -> dict[str, Any]:
    """The request of one model call, shaped for the trace viewer.

    `attachments` holds, per message, references to the attachments whose parts follow its text
    (see `attachment_reference`).
    """
    system = [m["content"] for m in messages if m.get("role") == "system"]
    last_reply = max(
        (i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1
    )
    new_messages = [
        _by_reference(message, attachments[i] if i < len(attachments) else [])
        for i, message in enumerate(messages)
        if i > last_reply and message.get("role") != "system"
    ]
    return {
        "iteration": iteration,
        "message_count": len(messages),
        "new_messages": new_messages,
        "system": "\n\n".join(str(part) for part in system),
        "tools": tools,
    }


def _by_reference(message: dict[str, Any], references: list[dict[str, Any]]) -> dict[str, Any]:
    """The message with each attachment's part (after the text) replaced by its reference."""
    content = message.get("content")
    if not references or not isinstance(content, list):
        return message
    parts = content[:1] + [
        _part_reference(part, reference)
        for part, reference in zip(content[1:], references, strict=True)
    ]
    return {**message, "content": parts}


def _part_reference(part: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    if part.get("type") == "image_url":
        sent = len(part["image_url"]["url"])
    elif reference["kind"] == AttachmentKind.TEXT:
        sent = len(part["text"].encode())
    else:  # an image as its description, or as the note that it was left out: short text
        return part
    return {"type": "attachment", "sent_as": part["type"], "sent_bytes": sent, **reference}


def model_call_output(response: ModelResponse) -> dict[str, Any]:
    """What the model returned besides its text: reasoning and the tool calls it asked for."""
    return {
        "reasoning": response.reasoning or None,
        "tool_calls": [
            {"id": call.id, "name": call.name, "arguments": call.arguments}
            for call in response.tool_calls
        ],
    }
