"""The per-chat switch and the auto-fix state over HTTP, against a real `boocode serve`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from autofix.projects import python_project
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, frames_until, turn_ended

BROKEN = "def double(x):\n    return 2 * (x\n"


@pytest.fixture
def server(autofix_server: LiveServer, fake_model: FakeModelServer) -> LiveServer:
    """The shared server, its workspace reset to a Python project that configures ruff."""
    for name in ("package.json", "Makefile", ".boocode/config.toml"):
        (autofix_server.workspace / name).unlink(missing_ok=True)
    python_project(autofix_server.workspace)
    return autofix_server


async def _turn(server: LiveServer, chat_id: str, prompt: str) -> list[dict[str, Any]]:
    async with server.ws(chat_id) as ws:
        with server.client() as http:
            response = http.post(f"/api/chats/{chat_id}/messages", json={"content": prompt})
            assert response.status_code == 202, response.text
        return await frames_until(ws, turn_ended)


def test_the_state_names_the_command_and_why(server: LiveServer) -> None:
    chat = server.new_chat()

    with server.client() as http:
        state = http.get(f"/api/chats/{chat['id']}/autofix").json()

    assert state == {
        "enabled": True,
        "commands": [["ruff", "check", "."]],
        "source": "detected",
        "reason": "pyproject.toml: ruff ([tool.ruff])",
        "chat_setting": None,
        "project_enabled": True,
        "max_attempts": 3,
        "timeout_s": 120.0,
        "runs": [],
    }


def test_a_project_with_nothing_to_check_is_off_with_the_reason(server: LiveServer) -> None:
    (server.workspace / "pyproject.toml").unlink()
    chat = server.new_chat()

    with server.client() as http:
        state = http.get(f"/api/chats/{chat['id']}/autofix").json()

    assert state["enabled"] is False and state["source"] == "none"
    assert state["reason"].startswith("nothing to run: no package.json")


async def test_switching_a_chat_off_and_back_to_the_project_default(
    server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id = server.new_chat()["id"]
    write_broken = Reply.tool_calls([("write_file", {"path": "pkg/mod.py", "content": BROKEN})])

    with server.client() as http:
        off = http.put(f"/api/chats/{chat_id}/autofix", json={"enabled": False}).json()
        assert http.get(f"/api/chats/{chat_id}").json()["autofix"] is False
    fake_model.script([write_broken, Reply.text("done")])
    quiet = await _turn(server, chat_id, "break it")

    assert off["enabled"] is False and off["chat_setting"] is False
    assert off["reason"] == "switched off for this chat; pyproject.toml: ruff ([tool.ruff])"
    assert not [f for f in quiet if f["type"] == "autofix"]
    assert not _autofix_messages(fake_model.requests[-1])

    with server.client() as http:
        back = http.put(f"/api/chats/{chat_id}/autofix", json={"enabled": None}).json()
    fake_model.reset()
    fake_model.script([write_broken, Reply.text("leaving it")])
    checked = await _turn(server, chat_id, "break it again")

    assert back["enabled"] is True and back["chat_setting"] is None
    assert [f["run"]["status"] for f in checked if f["type"] == "autofix"] == ["running", "failed"]
    assert len(_autofix_messages(fake_model.requests[-1])) == 1
    with server.client() as http:
        runs = http.get(f"/api/chats/{chat_id}/autofix").json()["runs"]
    assert [(r["turn"], r["status"], r["exit_code"], r["command"]) for r in runs] == [
        (2, "failed", 1, ["ruff", "check", "."])
    ]
    assert runs[0]["trace_id"] and runs[0]["duration_ms"] > 0


def test_a_chat_can_switch_on_what_the_project_switched_off(server: LiveServer) -> None:
    config = server.workspace / ".boocode" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text("[autofix]\nenabled = false\nmax_attempts = 2\n")
    chat_id = server.new_chat()["id"]

    with server.client() as http:
        before = http.get(f"/api/chats/{chat_id}/autofix").json()
        after = http.put(f"/api/chats/{chat_id}/autofix", json={"enabled": True}).json()

    assert before["enabled"] is False and before["project_enabled"] is False
    assert after["enabled"] is True and after["max_attempts"] == 2


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "enabled: Field required"),
        ({"enabled": "sometimes"}, "enabled: Input should be a valid boolean"),
        ({"enabled": True, "command": ["rm"]}, "command: Extra inputs are not permitted"),
    ],
)
def test_a_bad_switch_is_a_clear_422(server: LiveServer, body: dict[str, Any], detail: str) -> None:
    chat_id = server.new_chat()["id"]

    with server.client() as http:
        response = http.put(f"/api/chats/{chat_id}/autofix", json=body)

    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_an_unknown_chat_is_a_404(server: LiveServer) -> None:
    with server.client() as http:
        got = http.get("/api/chats/nope/autofix")
        put = http.put("/api/chats/nope/autofix", json={"enabled": False})

    assert (got.status_code, put.status_code) == (404, 404)
    assert got.json() == {"detail": "chat nope does not exist"}


def test_the_switch_needs_the_access_token(server: LiveServer) -> None:
    chat_id = server.new_chat()["id"]

    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer wrong"}) as http:
        response = http.put(f"/api/chats/{chat_id}/autofix", json={"enabled": False})

    assert response.status_code == 401


def _autofix_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        m
        for m in request["messages"]
        if m["role"] == "user" and str(m["content"]).startswith("Auto-fix:")
    ]
