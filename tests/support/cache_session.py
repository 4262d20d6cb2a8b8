"""A scripted session against a real `boocode serve` and the fake model's prefix cache.

Each turn reads a file; every fifth turn writes a file the project's check rejects, gets the
auto-fix note, fixes it and gets the "passes now" note; every seventh turn attaches an image and
a text file. Shared by tests/cache and bench/bench_cache_prefix.py.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env, frames_until, turn_ended

CHECK = "import sys\nsys.exit('bug' in open('state.py').read())\n"
AUTOFIX_CONFIG = '[autofix]\ncommand = ["python3", "check.py"]\n'


def cache_server_env(fake: FakeModelServer) -> dict[str, str]:
    return {**fake_model_env(fake), "BOOCODE_VISION_MODELS": "fake-*"}


def prepare_workspace(workspace: Path) -> None:
    """A project whose check fails while `state.py` contains the word `bug`."""
    (workspace / "state.py").write_text("x = 1\n")
    (workspace / "check.py").write_text(CHECK)
    (workspace / ".boocode").mkdir(exist_ok=True)
    (workspace / ".boocode" / "config.toml").write_text(AUTOFIX_CONFIG)


@dataclass(frozen=True)
class SessionResult:
    chat_id: str
    prompts: list[bytes]
    stats: dict[str, Any]


def replies_for(turn: int) -> list[Reply]:
    if turn % 5 == 0:
        return [
            Reply.tool_calls(
                [("write_file", {"path": "state.py", "content": f"x = 'bug {turn}'\n"})]
            ),
            Reply.tool_calls([("write_file", {"path": "state.py", "content": f"x = {turn}\n"})]),
            Reply.text(f"Turn {turn}: fixed state.py."),
        ]
    return [
        Reply.tool_calls([("read_file", {"path": "README.md"})]),
        Reply.text(f"Turn {turn}: the README says hello."),
    ]


async def run_session(server: LiveServer, fake: FakeModelServer, turns: int) -> SessionResult:
    fake.reset()
    chat = server.new_chat()
    chat_id = chat["id"]
    async with server.async_client() as http, server.ws(chat_id) as ws:
        for turn in range(1, turns + 1):
            fake.script(replies_for(turn))
            attachments = await _attach(http, chat_id, turn) if turn % 7 == 0 else []
            body = {"content": f"turn {turn}: look around", "attachments": attachments}
            response = await http.post(f"/api/chats/{chat_id}/messages", json=body)
            assert response.status_code == 202, response.text
            frames = await frames_until(ws, turn_ended, timeout=60)
            assert frames[-1]["status"] == "succeeded", frames[-1]
        stats = (await http.get(f"/api/chats/{chat_id}/cache-stats")).json()
    return SessionResult(chat_id, fake.prompts, stats)


async def _attach(http: httpx.AsyncClient, chat_id: str, turn: int) -> list[str]:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), (turn * 5 % 256, 40, 90)).save(image, "PNG")
    files = [
        (f"shot{turn}.png", image.getvalue()),
        (f"notes{turn}.md", f"# turn {turn}\n".encode()),
    ]
    ids = []
    for name, data in files:
        response = await http.post(
            f"/api/chats/{chat_id}/attachments", files={"file": (name, data)}
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def served_from_cache(stats: dict[str, Any]) -> float:
    total = stats["total"]
    return float(total["cache_hit_tokens"]) / max(int(total["prompt_tokens"]), 1)


async def two_turns_with_new_instructions(server: LiveServer, fake: FakeModelServer) -> str:
    """Turn 1, then the project's instructions change, then turn 2; returns the chat id."""
    config = server.workspace / ".boocode" / "config.toml"
    chat = server.new_chat()
    fake.script([Reply.text("one"), Reply.text("two")])
    try:
        async with server.async_client() as http, server.ws(chat["id"]) as ws:
            for turn in (1, 2):
                if turn == 2:
                    config.write_text(AUTOFIX_CONFIG + '[agent]\ninstructions = "Be brief."\n')
                url = f"/api/chats/{chat['id']}/messages"
                assert (await http.post(url, json={"content": f"hi {turn}"})).status_code == 202
                await frames_until(ws, turn_ended)
    finally:
        config.write_text(AUTOFIX_CONFIG)
    return str(chat["id"])
