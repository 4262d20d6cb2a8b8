"""Background subagents as a user meets them: over HTTP and WebSocket, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

from support.fake_model import FakeModelServer, Reply, render_prompt
from support.live_server import LiveServer, frames_until, turn_ended
from support.processes import boocode_env, run_boocode

from .scripted import PARENT_PROMPT, helpers


def _get(server: LiveServer, path: str) -> Any:
    with server.client() as http:
        response = http.get(path)
        assert response.status_code == 200, response.text
        return response.json()


def wait_quiet(server: LiveServer, chat_id: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Wait until every subagent of the chat ended and was delivered, and the parent answered
    the last of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        subagents = _get(server, f"/api/chats/{chat_id}/subagents")["subagents"]
        ended = all(s["status"] in ("succeeded", "failed", "cancelled") for s in subagents)
        delivered = all(s["notified"] for s in subagents)
        last = _get(server, f"/api/chats/{chat_id}/messages")[-1]
        answered = last["role"] == "assistant" and not last["tool_calls"]
        if subagents and ended and delivered and answered:
            return list(subagents)
        time.sleep(0.2)
    raise AssertionError(f"the chat did not settle: {subagents}")


async def test_three_subagents_report_back_and_wake_the_parent(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = helpers
    chat_id = server.new_chat()["id"]
    async with server.ws(chat_id) as ws:
        async with server.async_client() as http:
            response = await http.post(
                f"/api/chats/{chat_id}/messages", json={"content": PARENT_PROMPT}
            )
            assert response.status_code == 202, response.text
        first_turn = await frames_until(ws, turn_ended)
    # The parent answered at once, its helpers still working or queued.
    assert first_turn[-1]["status"] == "succeeded"
    answers = [f["message"]["content"] for f in first_turn if f["type"] == "message"]
    assert "Three helpers are on it." in answers
    spawned = [f for f in first_turn if f["type"] == "subagent" and f["event"] == "spawned"]
    assert sorted(f["subagent"]["label"] for f in spawned) == ["helper a", "helper b", "helper c"]

    subagents = wait_quiet(server, chat_id)
    assert [s["status"] for s in subagents] == ["succeeded"] * 3
    assert all(s["tool_calls"] == 1 and s["usage"]["prompt_tokens"] > 0 for s in subagents)
    assert sorted(s["answer"] for s in subagents) == [f"answer for task {n}" for n in "abc"]

    messages = _get(server, f"/api/chats/{chat_id}/messages")
    notices = [m for m in messages if m["tool_name"] == "subagent_notification"]
    assert notices and all(m["role"] == "user" for m in notices)
    assert "".join(m["content"] for m in notices).count("[subagent succeeded]") == 3
    # The parent was woken and answered with every helper's result.
    assert messages[-1]["role"] == "assistant"
    assert messages[-1]["content"] == "Results so far: a,b,c"

    # Every request of the parent extends the one before it: nothing earlier was rewritten.
    parent = [
        render_prompt(body)
        for body in fake_model_server.requests
        if body["messages"][1]["content"] == PARENT_PROMPT
    ]
    assert len(parent) >= 3
    for before, after in itertools.pairwise(parent):
        assert after.startswith(before)
    # In the cache figures, a notification is a note the server injected, not a turn of the user.
    stats = _get(server, f"/api/chats/{chat_id}/cache-stats")
    main = [c for c in stats["calls"] if c["conversation"] == "main"]
    notes = [s for c in main for s in c["segments"] if s["kind"] == "note"]
    labels = [s["label"] for s in notes]
    assert labels and all(
        label.startswith(("subagent notification · turn ", "injected notes (")) for label in labels
    )
    # Each helper counts as a conversation of its own, named by its label, and in the total.
    named = {c["conversation"]: c["totals"] for c in stats["conversations"]}
    helpers_named = sorted(name.split(" · ")[0] for name in named if name != "main")
    assert helpers_named == ["helper a", "helper b", "helper c"]
    assert all(t["calls"] == 2 for name, t in named.items() if name != "main")
    assert stats["total"]["calls"] == len(stats["calls"]) == len(main) + 6
    assert stats["total"]["prompt_tokens"] == sum(t["prompt_tokens"] for t in named.values())
    assert sum(t["calls"] for t in stats["turns"]) == len(main)

    # A subagent's transcript, and its traces nested under the spawning call.
    detail = _get(server, f"/api/subagents/{subagents[0]['task_id']}")
    roles = [m["role"] for m in detail["transcript"]]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert detail["transcript"][0]["content"] == detail["prompt"]
    spawn_traces = [
        t
        for t in _get(server, f"/api/chats/{chat_id}/traces?tool_name=spawn_subagent")["items"]
        if t["tool_name"] == "spawn_subagent"
    ]
    assert sorted(t["extra"]["task_id"] for t in spawn_traces) == sorted(
        s["task_id"] for s in subagents
    )
    conversation = subagents[0]["conversation_id"]
    child_traces = _get(server, f"/api/chats/{conversation}/traces")["items"]
    assert sorted(t["tool_name"] for t in child_traces) == ["fake-model", "fake-model", "read_file"]

    # Their conversations are not chats of the list, and take no messages.
    listed = {c["id"] for c in _get(server, "/api/chats?limit=100")["items"]}
    assert chat_id in listed and conversation not in listed
    with server.client() as http:
        refused = http.post(f"/api/chats/{conversation}/messages", json={"content": "hi"})
    assert refused.status_code == 409
    assert "subagent's conversation" in refused.json()["detail"]


async def test_tool_errors_are_clear(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.script(
        [
            Reply.tool_calls(
                [
                    ("spawn_subagent", {"prompt": "x", "isolation": "worktree"}),
                    ("spawn_subagent", {"prompt": "x", "tools": ["rm_rf"]}),
                    ("spawn_subagent", {"prompt": ""}),
                    ("subagent_status", {"task_id": "sub-nope"}),
                    ("subagent_result", {"task_id": "sub-nope", "wait_s": 1}),
                ]
            ),
            Reply.text("done"),
        ]
    )
    chat_id = server.new_chat()["id"]
    async with server.ws(chat_id) as ws:
        async with server.async_client() as http:
            await http.post(f"/api/chats/{chat_id}/messages", json={"content": "go"})
        await frames_until(ws, turn_ended)
    messages = _get(server, f"/api/chats/{chat_id}/messages")
    # The calls ran at once: their results are stored as they ended, read them in call order.
    answers = {m["tool_call_id"]: m["content"] for m in messages if m["role"] == "tool"}
    results = [answers[call["id"]] for m in messages for call in m["tool_calls"]]
    assert results[0].startswith('isolation "worktree" needs a git repository')
    assert results[1].startswith("tools 'rm_rf' cannot be given to a subagent; choose from:")
    assert "prompt: String should have at least 1 character" in results[2]
    assert results[3] == results[4] == "subagent sub-nope does not exist"
    assert _get(server, f"/api/chats/{chat_id}/subagents") == {"subagents": []}
    with server.client() as http:
        assert http.get("/api/subagents/sub-nope").status_code == 404
        assert http.post("/api/subagents/sub-nope/cancel").status_code == 404
        assert http.get("/api/chats/nope/subagents").status_code == 404


def _waiting(body: dict[str, Any]) -> Reply:
    """The parent spawns a slow helper, then waits for its result with subagent_result."""
    messages = body["messages"]
    first = messages[1]["content"]
    tools = [m for m in messages if m["role"] == "tool"]
    if first == "slow task":
        return Reply.text("slow answer", delay_s=1.0)
    if first == "endless task":  # streams for a minute
        return Reply.text(" ".join(["slowly"] * 120), chunk_delay_s=0.5)
    if first == "wait for it":
        if not tools:
            return Reply.tool_calls([("spawn_subagent", {"prompt": "slow task"})])
        if len(tools) == 1:
            task_id = json.loads(tools[0]["content"])["task_id"]
            return Reply.tool_calls([("subagent_result", {"task_id": task_id, "wait_s": 30})])
        return Reply.text("got: " + tools[-1]["content"])
    if first == "start endless":
        if not tools:
            return Reply.tool_calls(
                [("spawn_subagent", {"prompt": "endless task", "label": f"e{n}"}) for n in (1, 2)]
            )
        return Reply.text("started")
    return Reply.text("noted")


async def _turn(server: LiveServer, chat_id: str, content: str) -> list[dict[str, Any]]:
    async with server.ws(chat_id) as ws:
        async with server.async_client() as http:
            response = await http.post(f"/api/chats/{chat_id}/messages", json={"content": content})
            assert response.status_code == 202, response.text
        return await frames_until(ws, turn_ended, timeout=40)


async def test_subagent_result_waits_and_then_no_notification_repeats_it(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = _waiting
    chat_id = server.new_chat()["id"]
    await _turn(server, chat_id, "wait for it")
    messages = _get(server, f"/api/chats/{chat_id}/messages")
    assert messages[-1]["content"] == 'got: {"status": "succeeded", "answer": "slow answer"}'
    (subagent,) = _get(server, f"/api/chats/{chat_id}/subagents")["subagents"]
    assert subagent["notified"] and subagent["elapsed_s"] >= 1.0
    time.sleep(1.0)  # a notification, had one been due, would have woken the chat by now
    after = _get(server, f"/api/chats/{chat_id}/messages")
    assert len(after) == len(messages)
    assert not [m for m in after if m["tool_name"] == "subagent_notification"]


async def test_cancel_one_then_the_rest_with_the_turn_and_deleting_the_chat(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = _waiting
    chat_id = server.new_chat()["id"]
    await _turn(server, chat_id, "start endless")
    first, second = _get(server, f"/api/chats/{chat_id}/subagents")["subagents"]
    time.sleep(1.5)  # stopped mid-answer: its partial text is kept, without usage
    with server.client() as http:
        # Cancelling the turn alone leaves the subagents running (there is no turn now).
        assert http.post(f"/api/chats/{chat_id}/cancel").json()["subagents"] == 0
        stopped = http.post(f"/api/subagents/{first['task_id']}/cancel").json()
        assert stopped == {"task_id": first["task_id"], "cancelled": True}
    deadline = time.monotonic() + 20
    while _get(server, f"/api/subagents/{first['task_id']}")["status"] != "cancelled":
        assert time.monotonic() < deadline, "the subagent did not stop"
        time.sleep(0.1)
    assert _get(server, f"/api/subagents/{second['task_id']}")["status"] == "running"
    stopped_one = _get(server, f"/api/subagents/{first['task_id']}")
    assert stopped_one["transcript"][-1]["content"].startswith("slowly")
    with server.client() as http:
        again = http.post(f"/api/subagents/{first['task_id']}/cancel").json()
        assert again["cancelled"] is False
        # The woken parent's turn (on the first one's notification) is stopped with the rest.
        assert http.post(f"/api/chats/{chat_id}/cancel?subagents=true").json()["subagents"] == 1
        assert http.delete(f"/api/chats/{chat_id}").status_code == 204
        assert http.get(f"/api/chats/{second['conversation_id']}").status_code == 404
        assert http.get(f"/api/subagents/{second['task_id']}").status_code == 404


def test_boocode_run_prints_subagent_events_and_waits_for_the_woken_answer(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    fake_model.responder = helpers
    env = boocode_env(tmp_path / "data", workspace, fake_model)

    result = run_boocode("run", PARENT_PROMPT, env=env, timeout=120)

    assert result.returncode == 0, result.stderr
    for name in "abc":
        assert f"⇢ subagent 'helper {name}' spawned" in result.stderr
        assert f"⇢ subagent 'helper {name}' ended succeeded" in result.stderr
    # The first answer, then the woken turn's answer with every result, on stdout.
    assert result.stdout.startswith("Three helpers are on it.\n")
    assert result.stdout.endswith("Results so far: a,b,c\n")
