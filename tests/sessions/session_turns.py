"""Driving real turns on a live server: post a prompt, watch its frames to the end."""

from __future__ import annotations

from typing import Any

from support.fake_model import Reply
from support.live_server import LiveServer, frames_until


async def run_turn(server: LiveServer, chat_id: str, prompt: str) -> list[dict[str, Any]]:
    """Post `prompt` and return the frames up to its `turn_end`."""
    async with server.ws(chat_id) as ws, server.async_client() as http:
        response = await http.post(f"/api/chats/{chat_id}/messages", json={"content": prompt})
        assert response.status_code == 202, response.text
        turn = response.json()["turn"]
        return await frames_until(
            ws, lambda f: f.get("type") == "turn_end" and f.get("turn") == turn
        )


def write_then_answer(path: str, content: str, answer: str) -> list[Reply]:
    """The fake model's script for one turn: write a file, then say `answer`."""
    return [
        Reply.tool_calls([("write_file", {"path": path, "content": content})]),
        Reply.text(answer),
    ]
