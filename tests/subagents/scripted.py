"""A fake model that plays a parent agent and its subagents, by what each request holds."""

from __future__ import annotations

import json
import re
from typing import Any

from support.fake_model import Reply

PARENT_PROMPT = "Look into the project with three helpers."


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else json.dumps(content)


def helpers(body: dict[str, Any]) -> Reply:
    """The parent spawns helpers a, b, c and answers at once; each helper reads a file and
    answers; a notification makes the parent list the answers it has received so far."""
    messages = body["messages"]
    first = next(_text(m) for m in messages if m["role"] == "user")
    last = messages[-1]
    if first.startswith("task "):
        if last["role"] == "user":
            return Reply.tool_calls([("read_file", {"path": "README.md"})])
        return Reply.text(f"answer for {first}")
    if last["role"] == "user" and _text(last) == PARENT_PROMPT:
        return Reply.tool_calls(
            [
                ("spawn_subagent", {"prompt": f"task {name}", "label": f"helper {name}"})
                for name in "abc"
            ]
        )
    if last["role"] == "tool":
        return Reply.text("Three helpers are on it.")
    received = sorted(
        set(re.findall(r"answer for task (\w)", " ".join(_text(m) for m in messages)))
    )
    return Reply.text("Results so far: " + ",".join(received))
