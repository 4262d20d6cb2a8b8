"""The traces of a real turn over HTTP and the WebSocket, as a client sees them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, frames_until, turn_ended

BIG_FILE = "big.txt"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("read_file", {"path": "README.md"}),
    ("read_file", {"path": "missing.txt"}),
    ("read_file", {"path": BIG_FILE}),
]


@pytest.fixture
async def traced_turn(
    fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> tuple[LiveServer, str, list[dict[str, Any]]]:
    """A turn of three tool calls (one failing), with every frame the chat's socket got."""
    (fake_live_server.workspace / BIG_FILE).write_text("a long line of text\n" * 400)
    fake_model_server.reset()
    fake_model_server.script([Reply.tool_calls(CALLS), Reply.text("All read.")])
    chat = fake_live_server.new_chat()
    async with fake_live_server.ws(chat["id"]) as ws:
        async with fake_live_server.async_client() as http:
            response = await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "go"})
            assert response.status_code == 202
        frames = await frames_until(ws, turn_ended)
    return fake_live_server, chat["id"], frames


async def test_each_call_is_streamed_live_as_a_start_then_a_finish_frame(
    traced_turn: tuple[LiveServer, str, list[dict[str, Any]]],
) -> None:
    _, _, frames = traced_turn
    traced = [f for f in frames if f["type"] in ("tool_trace_start", "tool_trace_finish")]
    names = [(f["type"][11:], f["trace"]["kind"], f["trace"]["tool_name"]) for f in traced]
    assert names == [
        ("start", "llm", "fake-model"),
        ("finish", "llm", "fake-model"),
        ("start", "tool", "read_file"),
        ("finish", "tool", "read_file"),
        ("start", "tool", "read_file"),
        ("finish", "tool", "read_file"),
        ("start", "tool", "read_file"),
        ("finish", "tool", "read_file"),
        ("start", "llm", "fake-model"),
        ("finish", "llm", "fake-model"),
    ]
    finishes = [f["trace"] for f in traced if f["type"] == "tool_trace_finish"]
    assert [t["outcome"] for t in finishes] == ["ok", "ok", "error", "ok", "ok"]
    first_model_call = finishes[0]
    assert all(t["parent_id"] == first_model_call["id"] for t in finishes[1:4])
    assert first_model_call["prompt_tokens"] > 0 and first_model_call["tokens_used"] > 0
    assert "no such file" in finishes[2]["error"]
    assert finishes[3]["truncated"] and len(finishes[3]["output"]) == 2049
    # Trace frames sit in the chat's ordered stream like every other frame.
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_the_traces_api_pages_filters_and_returns_a_call_in_full(
    traced_turn: tuple[LiveServer, str, list[dict[str, Any]]],
) -> None:
    server, chat_id, _ = traced_turn
    base = f"/api/chats/{chat_id}/traces"
    async with server.async_client() as http:
        everything = (await http.get(base)).json()
        assert [t["kind"] for t in everything["items"]] == ["llm", "tool", "tool", "tool", "llm"]
        assert everything["next_cursor"] is None

        first = (await http.get(base, params={"limit": 2})).json()
        second = (await http.get(base, params={"limit": 2, "cursor": first["next_cursor"]})).json()
        third = (await http.get(base, params={"limit": 2, "cursor": second["next_cursor"]})).json()
        paged = [t["id"] for page in (first, second, third) for t in page["items"]]
        assert paged == [t["id"] for t in everything["items"]] and third["next_cursor"] is None

        failed = (await http.get(base, params={"outcome": "error"})).json()["items"]
        assert [t["input"] for t in failed] == [{"path": "missing.txt"}]
        tools = (await http.get(base, params={"kind": "tool", "turn": 1})).json()["items"]
        assert len(tools) == 3
        named = (await http.get(base, params={"tool_name": "read_file"})).json()["items"]
        assert len(named) == 3

        big = next(t for t in tools if t["input"] == {"path": BIG_FILE})
        whole = (await http.get(f"{base}/{big['id']}")).json()
        assert not whole["truncated"] and len(whole["output"]) > 8000
        assert whole["output"].startswith(big["output"][:-1])


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "less than or equal to 500"),
        ({"cursor": "abc"}, "cursor must be the next_cursor of an earlier page"),
        ({"turn": "first"}, "turn"),
        ({"kind": "magic"}, "kind"),
        ({"outcome": "fine"}, "outcome"),
        ({"tool": "grep"}, "tool"),
    ],
)
async def test_invalid_parameters_get_a_422_with_a_clear_message(
    fake_live_server: LiveServer, params: dict[str, Any], problem: str
) -> None:
    chat = fake_live_server.new_chat()
    async with fake_live_server.async_client() as http:
        response = await http.get(f"/api/chats/{chat['id']}/traces", params=params)
    assert response.status_code == 422
    assert problem in response.json()["detail"]


async def test_unknown_chats_and_traces_are_404_and_the_token_is_required(
    fake_live_server: LiveServer,
) -> None:
    chat = fake_live_server.new_chat()
    async with fake_live_server.async_client() as http:
        missing_chat = await http.get("/api/chats/nope/traces")
        missing_trace = await http.get(f"/api/chats/{chat['id']}/traces/999999999")
        bad_id = await http.get(f"/api/chats/{chat['id']}/traces/zero")
    assert missing_chat.status_code == 404 and "nope" in missing_chat.json()["detail"]
    assert (
        missing_trace.status_code == 404 and "no trace 999999999" in missing_trace.json()["detail"]
    )
    assert bad_id.status_code == 422
    import httpx

    anonymous = httpx.get(f"{fake_live_server.url}/api/chats/{chat['id']}/traces")
    assert anonymous.status_code == 401
    assert json.loads(anonymous.text)["detail"]
