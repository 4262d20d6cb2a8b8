"""The sessions API over real HTTP and WebSocket, against a live server and the fake model."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from session_turns import run_turn, write_then_answer

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, frames_until, next_frame


async def _chat_with_three_turns(
    server: LiveServer, fake_model: FakeModelServer
) -> tuple[str, str]:
    """A chat whose agent wrote a file in each of three turns; returns (chat id, file name)."""
    name = f"notes-{uuid.uuid4().hex[:6]}.txt"
    chat_id = server.new_chat()["id"]
    for number in (1, 2, 3):
        fake_model.script(write_then_answer(name, f"v{number}\n", f"answer {number}"))
        frames = await run_turn(server, chat_id, f"prompt {number}")
        assert frames[-1]["status"] == "succeeded", frames[-1]
    return chat_id, name


async def test_snapshot_timeline_and_files_after_real_turns(
    fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id, name = await _chat_with_three_turns(fake_live_server, fake_model)

    async with fake_live_server.async_client() as http:
        snapshot = (await http.get(f"/api/chats/{chat_id}/snapshot")).json()
        timeline = (await http.get(f"/api/chats/{chat_id}/timeline")).json()
        files = (await http.get(f"/api/chats/{chat_id}/files")).json()
        last_turn = (await http.get(f"/api/chats/{chat_id}/files", params={"turn": 3})).json()
        quiet = (await http.get(f"/api/chats/{chat_id}/files", params={"turn": 9})).json()

    assert snapshot["version"] == 2 and snapshot["status"] == "idle"
    assert snapshot["turn"] == 3 and snapshot["message_count"] == 12
    assert snapshot["usage"]["prompt_tokens"] > 0 and snapshot["pending_tool_calls"] == []
    assert [(f["path"], f["writes"]) for f in snapshot["files"]] == [(name, 3)]
    assert [t["prompt"] for t in timeline["turns"]] == ["prompt 1", "prompt 2", "prompt 3"]
    assert all(t["tool_calls"] == 1 and t["status"] == "succeeded" for t in timeline["turns"])
    assert all(t["tokens"] > 0 and t["duration_ms"] > 0 for t in timeline["turns"])
    assert [t["files"] for t in timeline["turns"]] == [[name]] * 3
    # The whole chat's net change: the file did not exist before turn 1.
    assert files["turns"] == [1, 2, 3] and files["files"][0]["created"] is True
    assert files["files"][0]["diff"].endswith("@@ -0,0 +1 @@\n+v3\n")
    assert last_turn["turn"] == 3 and last_turn["files"][0]["diff"].endswith("-v2\n+v3\n")
    assert quiet["files"] == []


async def test_restore_continue_and_return_to_the_kept_branch(
    fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id, name = await _chat_with_three_turns(fake_live_server, fake_model)
    async with fake_live_server.ws(chat_id) as watcher:
        assert (await next_frame(watcher))["type"] == "snapshot"
        async with fake_live_server.async_client() as http:
            restored = await http.post(
                f"/api/chats/{chat_id}/restore", json={"turn": 1, "restore_files": True}
            )
        assert restored.status_code == 200, restored.text
        redraw = await next_frame(watcher)
    body = restored.json()
    assert (body["branch_id"], body["previous_branch_id"], body["turn"]) == (1, 0, 1)
    assert body["files"] == [{"path": name, "action": "restored", "reason": None}]
    assert (fake_live_server.workspace / name).read_text() == "v1\n"
    assert redraw["type"] == "snapshot" and redraw["session"]["branch_id"] == 1
    assert {m["turn"] for m in redraw["messages"]} == {1}

    fake_model.reset()
    fake_model.script([Reply.text("a new second answer")])
    frames = await run_turn(fake_live_server, chat_id, "a new second prompt")
    assert frames[-1]["turn"] == 2 and frames[-1]["status"] == "succeeded"
    sent = [m.get("content") for m in fake_model.requests[0]["messages"][1:]]
    assert "prompt 1" in sent and "a new second prompt" in sent
    assert "prompt 2" not in sent and "prompt 3" not in sent

    async with fake_live_server.async_client() as http:
        timeline = (await http.get(f"/api/chats/{chat_id}/timeline")).json()
        assert [t["prompt"] for t in timeline["turns"]] == ["prompt 1", "a new second prompt"]
        assert [(b["id"], b["current"], b["turns"]) for b in timeline["branches"]] == [
            (0, False, 3),
            (1, True, 2),
        ]
        back = await http.post(
            f"/api/chats/{chat_id}/branches/0/checkout", json={"restore_files": True}
        )
        assert back.status_code == 200, back.text
        assert back.json()["files"] == [{"path": name, "action": "restored", "reason": None}]
        kept = (await http.get(f"/api/chats/{chat_id}/timeline")).json()
    assert [t["prompt"] for t in kept["turns"]] == ["prompt 1", "prompt 2", "prompt 3"]
    assert (fake_live_server.workspace / name).read_text() == "v3\n"


async def test_file_restore_refuses_a_file_the_user_changed(
    fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id, name = await _chat_with_three_turns(fake_live_server, fake_model)
    (fake_live_server.workspace / name).write_text("my own edit\n")

    async with fake_live_server.async_client() as http:
        response = await http.post(
            f"/api/chats/{chat_id}/restore", json={"turn": 1, "restore_files": True}
        )

    assert response.status_code == 200
    [outcome] = response.json()["files"]
    assert outcome["action"] == "skipped" and "changed since" in outcome["reason"]
    assert (fake_live_server.workspace / name).read_text() == "my own edit\n"


async def test_clear_errors(fake_live_server: LiveServer, fake_model: FakeModelServer) -> None:
    chat_id = fake_live_server.new_chat()["id"]
    async with fake_live_server.async_client() as http:
        cases: list[tuple[str, str, Any, int, str]] = [
            ("GET", "/api/chats/nope/snapshot", None, 404, "chat nope does not exist"),
            ("GET", "/api/chats/nope/timeline", None, 404, "does not exist"),
            ("GET", "/api/chats/nope/files", None, 404, "does not exist"),
            ("POST", "/api/chats/nope/restore", {"turn": 0}, 404, "does not exist"),
            ("GET", f"/api/chats/{chat_id}/snapshot", None, 404, "no stored snapshot"),
            ("GET", f"/api/chats/{chat_id}/timeline?branch_id=9", None, 404, "no branch 9"),
            ("POST", f"/api/chats/{chat_id}/restore", {"turn": 0}, 422, "no turns to restore"),
            ("POST", f"/api/chats/{chat_id}/restore", {"turn": -1}, 422, "turn:"),
            ("POST", f"/api/chats/{chat_id}/restore", {}, 422, "turn: Field required"),
            ("POST", f"/api/chats/{chat_id}/branches/4/checkout", None, 404, "no branch 4"),
        ]
        for method, url, body, code, detail in cases:
            response = await http.request(method, url, json=body)
            assert response.status_code == code, (url, response.text)
            assert detail in response.json()["detail"], (url, response.text)


async def test_restore_while_a_turn_runs_is_a_conflict(
    fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id = fake_live_server.new_chat()["id"]
    fake_model.script([Reply.text("first")])
    await run_turn(fake_live_server, chat_id, "one")
    fake_model.script([Reply.text("slow " * 40, chunk_delay_s=0.05)])
    async with fake_live_server.ws(chat_id) as ws, fake_live_server.async_client() as http:
        await http.post(f"/api/chats/{chat_id}/messages", json={"content": "two"})
        await frames_until(ws, lambda f: f["type"] == "message_delta")
        response = await http.post(f"/api/chats/{chat_id}/restore", json={"turn": 1})
        checkout = await http.post(f"/api/chats/{chat_id}/branches/0/checkout")
        await frames_until(ws, lambda f: f["type"] == "turn_end")
    assert response.status_code == 409 and "turn 2 is still running" in response.json()["detail"]
    assert checkout.status_code == 409


async def test_deleting_the_snapshot_keeps_the_chat(
    fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id = fake_live_server.new_chat()["id"]
    fake_model.script([Reply.text("hello there")])
    await run_turn(fake_live_server, chat_id, "hi")
    async with fake_live_server.async_client() as http:
        assert (await http.get(f"/api/chats/{chat_id}/snapshot")).status_code == 200
        assert (await http.delete(f"/api/chats/{chat_id}/snapshot")).status_code == 204
        assert (await http.get(f"/api/chats/{chat_id}/snapshot")).status_code == 404
    async with fake_live_server.ws(chat_id) as ws:
        frame = await next_frame(ws)
    assert [m["content"] for m in frame["messages"]] == ["hi", "hello there"]
    assert frame["session"]["turn"] == 1


async def test_the_snapshot_is_current_after_each_tool_phase_not_only_at_turn_end(
    fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id = fake_live_server.new_chat()["id"]
    fake_model.script([Reply.text("first")])
    await run_turn(fake_live_server, chat_id, "hi")  # stored at its end: 2 messages, turn 1
    fake_model.script(
        [
            Reply.tool_calls([("list_files", {})]),
            Reply.text("done", delay_s=3),
        ]
    )
    async with fake_live_server.async_client() as http:
        await http.post(f"/api/chats/{chat_id}/messages", json={"content": "look"})
        for _ in range(100):
            response = await http.get(f"/api/chats/{chat_id}/snapshot")
            if response.json()["message_count"] == 5:
                break
            await asyncio.sleep(0.05)
        mid_turn = response.json()
        await http.post(f"/api/chats/{chat_id}/cancel")

    assert mid_turn["status"] == "running"
    assert mid_turn["turn"] == 2
    # turn 1's two, then this turn's user message, assistant with the tool call, tool result
    assert mid_turn["message_count"] == 5
