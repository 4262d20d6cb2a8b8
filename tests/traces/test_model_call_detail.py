"""Over HTTP, on both engines: a model call's trace keeps what the model received and all it
returned; traces carry their branch, and the API filters by it."""

from __future__ import annotations

import time
from typing import Any

import httpx

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer


def run_turn(http: httpx.Client, chat_id: str, content: str) -> None:
    turn = http.post(f"/api/chats/{chat_id}/messages", json={"content": content}).json()["turn"]
    deadline = time.monotonic() + 20
    while True:
        turns = http.get(f"/api/chats/{chat_id}/timeline").json()["turns"]
        if turns and turns[-1]["turn"] == turn and turns[-1]["status"] == "succeeded":
            return
        assert time.monotonic() < deadline, f"turn {turn} did not end: {turns}"
        time.sleep(0.05)


def traces(http: httpx.Client, chat_id: str, **params: Any) -> list[dict[str, Any]]:
    response = http.get(f"/api/chats/{chat_id}/traces", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


def test_a_model_call_keeps_what_it_received_and_returned(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script(
        [
            Reply.tool_calls([("read_file", {"path": "README.md"})], reasoning="Read it first."),
            Reply.text("It is a sample project."),
        ]
    )
    server = fake_server_each_engine
    chat = server.new_chat()
    with server.client() as http:
        run_turn(http, chat["id"], "What is this?")
        first, tool, second = traces(http, chat["id"])
        first = http.get(f"/api/chats/{chat['id']}/traces/{first['id']}").json()
        second = http.get(f"/api/chats/{chat['id']}/traces/{second['id']}").json()

    assert (first["kind"], tool["kind"], second["kind"]) == ("llm", "tool", "llm")
    received = first["input"]
    assert received["new_messages"] == [{"role": "user", "content": "What is this?"}]
    assert received["message_count"] == 2 and "BooCode" in received["system"]
    assert "read_file" in [t["function"]["name"] for t in received["tools"]]
    assert first["extra"]["reasoning"] == "Read it first."
    (call,) = first["extra"]["tool_calls"]
    assert call["name"] == "read_file" and '"README.md"' in call["arguments"]
    assert first["prompt_tokens"] > 0 and first["completion_tokens"] > 0

    # The second call received only what is new since the first: the tool's result.
    (result,) = second["input"]["new_messages"]
    assert result["role"] == "tool" and "Sample project" in result["content"]
    assert second["input"]["message_count"] == 4
    assert second["output"] == "It is a sample project."
    assert second["extra"] == {"reasoning": None, "tool_calls": []}


def test_traces_carry_their_branch_and_filter_by_it(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    server = fake_server_each_engine
    chat = server.new_chat()
    with server.client() as http:
        for prompt in ("one", "two"):
            fake_model_server.script([Reply.text(f"answer {prompt}")])
            run_turn(http, chat["id"], prompt)
        restored = http.post(f"/api/chats/{chat['id']}/restore", json={"turn": 1})
        assert restored.status_code == 200, restored.text
        branch = restored.json()["branch_id"]
        fake_model_server.script([Reply.text("answer two again")])
        run_turn(http, chat["id"], "two again")

        main = traces(http, chat["id"], branch=0)
        new = traces(http, chat["id"], branch=branch)
        everything = traces(http, chat["id"])
        bad = http.get(f"/api/chats/{chat['id']}/traces", params={"branch": -1})

    assert [(t["turn"], t["branch_id"]) for t in main] == [(1, 0), (2, 0)]
    # Turn 1 was copied into the new branch by the restore: its call is part of that branch.
    assert [(t["turn"], t["branch_id"]) for t in new] == [(1, 0), (2, branch)]
    assert len(everything) == 3
    assert {t["id"] for t in new} & {t["id"] for t in main} == {main[0]["id"]}
    assert bad.status_code == 422
