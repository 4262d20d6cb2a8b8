"""The WebSocket: a snapshot first, then live frames; reconnecting with `after_seq` loses none."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from websockets.exceptions import ConnectionClosed

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, frames_until, next_frame, turn_ended

LIVE_TYPES = {"turn_start", "message_delta", "reasoning_delta", "message", "turn_end"}


def assert_consecutive(frames: list[dict], start: int) -> None:
    assert [f["seq"] for f in frames] == list(range(start, start + len(frames)))


async def test_first_frame_is_a_snapshot_then_a_turn_streams_live(
    live_server: LiveServer,
) -> None:
    chat = live_server.new_chat()
    async with live_server.ws(chat["id"]) as ws, live_server.async_client() as http:
        snapshot = await next_frame(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["chat_id"] == chat["id"]
        assert snapshot["chat"]["is_demo"] is True
        assert snapshot["messages"] == [] and snapshot["turn"] is None

        await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "What is here?"})
        frames = await frames_until(ws, turn_ended)

    assert_consecutive(frames, snapshot["seq"] + 1)
    assert all(f["chat_id"] == chat["id"] for f in frames)
    assert {f["type"] for f in frames} >= LIVE_TYPES
    assert frames[0]["type"] == "message" and frames[0]["message"]["role"] == "user"
    assert frames[1]["type"] == "turn_start"
    assert frames[-1]["status"] == "succeeded"
    streamed = "".join(f["text"] for f in frames if f["type"] == "message_delta")
    final = [f["message"] for f in frames if f["type"] == "message"][-1]
    assert streamed == final["content"]
    tools = [f["message"]["tool_name"] for f in frames if f["type"] == "message"]
    assert [t for t in tools if t] == ["list_files", "read_file", "run_command"]


async def test_a_message_posted_the_moment_the_socket_opens_arrives_as_frames(
    fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    """The snapshot is read before the handshake ends, so an instant turn posted right after
    connecting is never folded into it: its frames, turn_end included, always follow it."""
    async with fake_live_server.async_client() as http:
        for attempt in range(10):
            chat = fake_live_server.new_chat()
            fake_model.script([Reply.text(f"at once {attempt}")])
            async with fake_live_server.ws(chat["id"]) as ws:
                url = f"/api/chats/{chat['id']}/messages"
                assert (await http.post(url, json={"content": "now"})).status_code == 202
                snapshot = await next_frame(ws)
                frames = await frames_until(ws, turn_ended, timeout=10)
            assert snapshot["type"] == "snapshot" and snapshot["messages"] == []
            assert_consecutive(frames, snapshot["seq"] + 1)
            assert frames[-1]["status"] == "succeeded"


async def test_snapshot_mid_turn_carries_the_turn_in_progress(live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    async with live_server.ws(chat["id"]) as watcher, live_server.async_client() as http:
        await next_frame(watcher)
        await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "hi"})
        await frames_until(watcher, lambda f: f["type"] == "message_delta")
        async with live_server.ws(chat["id"]) as late:
            snapshot = await next_frame(late)
            assert snapshot["type"] == "snapshot"
            assert snapshot["turn"]["turn"] == 1 and snapshot["turn"]["status"] == "running"
            assert snapshot["turn"]["text"]  # the answer streamed so far
            rest = await frames_until(late, turn_ended)
        assert_consecutive(rest, snapshot["seq"] + 1)
        everything = await frames_until(watcher, turn_ended)
    streamed_late = snapshot["turn"]["text"] + "".join(
        f["text"] for f in rest if f["type"] == "message_delta"
    )
    assert (
        streamed_late == [f for f in everything if f["type"] == "message"][-1]["message"]["content"]
    )


async def test_reconnect_with_after_seq_receives_exactly_the_missed_frames(
    fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    """A client drops mid-turn and comes back: no gap, no duplicate, same frames as a watcher."""
    fake_model_server.reset()
    fake_model_server.script(
        [Reply.text(" ".join(f"w{i}" for i in range(150)), reasoning="hmm", chunk_delay_s=0.01)]
    )
    chat = fake_live_server.new_chat()
    async with fake_live_server.ws(chat["id"]) as watcher, fake_live_server.async_client() as http:
        start = await next_frame(watcher)
        await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "go"})
        async with fake_live_server.ws(chat["id"], after_seq=start["seq"]) as dropping:
            before = await frames_until(dropping, lambda f: f["type"] == "message_delta")
        await asyncio.sleep(0.3)  # frames keep coming while the client is away
        last = before[-1]["seq"]
        async with fake_live_server.ws(chat["id"], after_seq=last) as back:
            after = await frames_until(back, turn_ended)
        everything = await frames_until(watcher, turn_ended)

    assert after[0]["type"] != "snapshot"
    assert after[0]["seq"] == last + 1
    assert before + after == everything
    assert_consecutive(everything, start["seq"] + 1)


async def test_after_seq_of_frames_no_longer_kept_gives_a_fresh_snapshot(
    live_server: LiveServer,
) -> None:
    chat = live_server.new_chat()
    async with live_server.ws(chat["id"]) as ws, live_server.async_client() as http:
        await next_frame(ws)
        await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "hi"})
        frames = await frames_until(ws, turn_ended)
    with sqlite3.connect(live_server.data_dir / "boocode.sqlite") as db:
        db.execute("DELETE FROM events WHERE chat_id = ? AND seq <= 5", (chat["id"],))

    async with live_server.ws(chat["id"], after_seq=2) as ws:
        snapshot = await next_frame(ws)
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == frames[-1]["seq"]
    assert snapshot["turn"] is None
    assert snapshot["messages"][-1]["content"] == frames[-2]["message"]["content"]

    async with live_server.ws(chat["id"], after_seq=10) as ws:
        replay = await next_frame(ws)
    assert replay["seq"] == 11 and replay["type"] != "snapshot"


async def test_after_seq_beyond_the_chat_gives_a_snapshot(live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    async with live_server.ws(chat["id"], after_seq=999) as ws:
        frame = await next_frame(ws)
    assert frame["type"] == "snapshot" and frame["seq"] == 0


async def test_unknown_chat_closes_with_4404(live_server: LiveServer) -> None:
    async with live_server.ws("no-such-chat") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404
    assert "does not exist" in closed.value.rcvd.reason


async def test_the_first_streamed_word_is_published_alone_then_the_rest_in_batches(
    fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    """The first text does not wait for a batch window; a fast stream still costs few frames."""
    words = [f"w{i} " for i in range(200)]
    fake_model_server.script([Reply.text("".join(words))])
    chat = fake_live_server.new_chat()
    async with fake_live_server.ws(chat["id"]) as ws, fake_live_server.async_client() as http:
        await next_frame(ws)
        await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "stream"})
        frames = await frames_until(ws, turn_ended)

    deltas = [f for f in frames if f["type"] == "message_delta"]
    assert deltas[0]["text"] == words[0] and deltas[0]["restart"] is True
    assert not any(f["restart"] for f in deltas[1:])
    assert "".join(f["text"] for f in deltas) == "".join(words)
    assert len(deltas) < len(words)
