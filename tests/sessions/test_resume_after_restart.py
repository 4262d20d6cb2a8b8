"""A server killed mid-turn: after a restart the chat is intact and the turn carries on."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from session_turns import run_turn

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, frames_until, next_frame

pytestmark = pytest.mark.slow


def _start(root: Path, fake_model: FakeModelServer) -> LiveServer:
    return LiveServer.start(
        root,
        env={
            "BOOCODE_BASE_URL": fake_model.base_url,
            "BOOCODE_API_KEY": fake_model.api_key,
            "BOOCODE_MODEL": "fake-model",
        },
    )


async def test_a_turn_running_at_sigkill_resumes_and_its_clients_see_it_continue(
    tmp_path: Path, fake_model: FakeModelServer
) -> None:
    server = _start(tmp_path, fake_model)
    try:
        chat_id = server.new_chat()["id"]
        fake_model.script([Reply.text("the first answer")])
        await run_turn(server, chat_id, "first")
        words = " ".join(f"w{n}" for n in range(60))
        fake_model.script([Reply.text(words, chunk_delay_s=0.05)] * 2)
        async with server.ws(chat_id) as ws, server.async_client() as http:
            await http.post(f"/api/chats/{chat_id}/messages", json={"content": "second"})
            await frames_until(ws, lambda f: f["type"] == "message_delta")
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=10)
    finally:
        server.stop()

    restarted = _start(tmp_path, fake_model)
    try:
        async with restarted.ws(chat_id) as ws:
            snapshot = await next_frame(ws)
            frames = await frames_until(ws, lambda f: f["type"] == "turn_end")
        async with restarted.async_client() as http:
            timeline = (await http.get(f"/api/chats/{chat_id}/timeline")).json()
            messages = (await http.get(f"/api/chats/{chat_id}/messages")).json()
    finally:
        restarted.stop()

    assert snapshot["type"] == "snapshot"
    assert [m["content"] for m in snapshot["messages"]][:3] == [
        "first",
        "the first answer",
        "second",
    ]
    assert snapshot["turn"] is not None and snapshot["turn"]["turn"] == 2
    assert any(f["type"] == "message_delta" for f in frames)
    assert frames[-1]["turn"] == 2 and frames[-1]["status"] == "succeeded"
    assert [m["content"] for m in messages] == ["first", "the first answer", "second", words]
    assert [(t["turn"], t["status"]) for t in timeline["turns"]] == [
        (1, "succeeded"),
        (2, "succeeded"),
    ]
