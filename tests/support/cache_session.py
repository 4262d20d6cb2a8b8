"""A scripted session against a real `boocode serve` and the fake model's prefix cache.

Each turn reads a file; every fifth turn writes a file the project's check rejects, gets the
auto-fix note, fixes it and gets the "passes now" note; every seventh turn attaches an image and
a text file; every sixth turn that is no auto-fix turn also spawns a background subagent, which
reads a file and answers. Its notification reaches the chat in the turn still running, or as the
message that wakes the idle chat for a turn of its own; the session waits for that turn's end.
The fake model plays the chat and its subagents by what each request holds. Shared by tests/cache
and bench/bench_cache_prefix.py.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from boocode.contracts.subagents import SUBAGENT_NOTIFICATION
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


AUTOFIX_EVERY = 5
ATTACH_EVERY = 7
SPAWN_EVERY = 6
# A subagent's prompt; the chat's own prompts start with "turn ".
TASK = "task of turn "


@dataclass(frozen=True)
class SessionResult:
    chat_id: str
    # The chat's own model requests, parsed and as the prefix cache saw them, oldest first.
    requests: list[dict[str, Any]]
    prompts: list[bytes]
    # Its subagents' model requests, and the turns the chat ran (woken ones too).
    agent_calls: int
    turns: int
    stats: dict[str, Any]


def spawns(turn: int) -> bool:
    return turn % SPAWN_EVERY == 0 and turn % AUTOFIX_EVERY != 0


def replies_for(turn: int) -> list[Reply]:
    if turn % AUTOFIX_EVERY == 0:
        return [
            Reply.tool_calls(
                [("write_file", {"path": "state.py", "content": f"x = 'bug {turn}'\n"})]
            ),
            Reply.tool_calls([("write_file", {"path": "state.py", "content": f"x = {turn}\n"})]),
            Reply.text(f"Turn {turn}: fixed state.py."),
        ]
    calls: list[tuple[str, dict[str, Any]]] = [("read_file", {"path": "README.md"})]
    if spawns(turn):
        calls.append(("spawn_subagent", {"prompt": f"{TASK}{turn}", "label": f"helper {turn}"}))
    return [Reply.tool_calls(calls), Reply.text(f"Turn {turn}: the README says hello.")]


def respond(body: dict[str, Any]) -> Reply:
    """The chat's next step in its turn's script, a woken turn's answer, or a subagent's step."""
    messages = body["messages"]
    users = [index for index, message in enumerate(messages) if message["role"] == "user"]
    first = _text(messages[users[0]])
    if first.startswith(TASK):
        if messages[-1]["role"] == "user":
            return Reply.tool_calls([("read_file", {"path": "README.md"})])
        return Reply.text(f"answer for {first}")
    # Notes the server injects are user messages too; the turn is the user's latest prompt.
    prompt = max(index for index in users if is_main(messages[index]))
    turn = int(_text(messages[prompt]).split()[1].rstrip(":"))
    step = sum(message["role"] == "assistant" for message in messages[prompt:])
    script = replies_for(turn)
    return script[step] if step < len(script) else Reply.text("Noted the helper's answer.")


def is_main(message: dict[str, Any]) -> bool:
    """Whether `message` is one of the chat's own prompts."""
    return message["role"] == "user" and _text(message).startswith("turn ")


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    return str(content if isinstance(content, str) else content[0]["text"])


class _Settled:
    """Stops at a turn's end; after a spawn, at the first turn end after the notification."""

    def __init__(self, *, notified: bool) -> None:
        self.notified = notified

    def __call__(self, frame: dict[str, Any]) -> bool:
        if frame.get("type") == "message":
            self.notified |= frame["message"]["tool_name"] == SUBAGENT_NOTIFICATION
        return self.notified and turn_ended(frame)


async def run_session(server: LiveServer, fake: FakeModelServer, turns: int) -> SessionResult:
    fake.reset()
    fake.responder = respond
    chat = server.new_chat()
    chat_id = chat["id"]
    ran = 0
    async with server.async_client() as http, server.ws(chat_id) as ws:
        for turn in range(1, turns + 1):
            attachments = await _attach(http, chat_id, turn) if turn % ATTACH_EVERY == 0 else []
            body = {"content": f"turn {turn}: look around", "attachments": attachments}
            response = await http.post(f"/api/chats/{chat_id}/messages", json=body)
            assert response.status_code == 202, response.text
            frames = await frames_until(ws, _Settled(notified=not spawns(turn)), timeout=60)
            ends = [frame for frame in frames if turn_ended(frame)]
            assert [end["status"] for end in ends] == ["succeeded"] * len(ends), ends
            ran += len(ends)
        stats = (await http.get(f"/api/chats/{chat_id}/cache-stats")).json()
    requests, prompts = fake.requests, fake.prompts
    main = [index for index, body in enumerate(requests) if is_main(body["messages"][1])]
    return SessionResult(
        chat_id,
        [requests[index] for index in main],
        [prompts[index] for index in main],
        len(requests) - len(main),
        ran,
        stats,
    )


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
