"""A live run stopped where no other test stops it, on SQLite and PostgreSQL: cancelled before it
starts (a subagent waiting for a slot) and between steps (after a tool step, before the next
model call); and failed by a model stream cut on every attempt. Each ends with every tool call
answered, and the chat takes the next message."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, frames_until, turn_ended
from support.processes import processes_with, wait_for

# One more than a chat's subagents may run at once (BOOCODE_SUBAGENT_CHAT_CONCURRENCY).
HELPERS = 5


async def _post_and_collect(server: LiveServer, chat_id: str, content: str) -> list[dict[str, Any]]:
    """Post a message as soon as the chat takes it (a woken turn may still be ending); the
    frames up to its turn's end."""
    async with server.ws(chat_id) as ws, server.async_client() as http:
        deadline = time.monotonic() + 30
        while (
            response := await http.post(f"/api/chats/{chat_id}/messages", json={"content": content})
        ).status_code == 409:
            assert time.monotonic() < deadline, response.text
            await asyncio.sleep(0.1)
        assert response.status_code == 202, response.text
        turn = response.json()["turn"]
        return await frames_until(ws, lambda f: turn_ended(f) and f["turn"] == turn)


def _get(server: LiveServer, path: str) -> Any:
    with server.client() as http:
        response = http.get(path)
        assert response.status_code == 200, response.text
        return response.json()


def _first_prompt(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in body["messages"] if m["role"] == "user"))


def _spawns_helpers_that_wait(body: dict[str, Any]) -> Reply:
    """The parent spawns HELPERS helpers; each helper's model call waits for a minute, so the
    first ones hold every slot of the chat until they are cancelled."""
    if _first_prompt(body).startswith("helper "):
        return Reply.text("never delivered", delay_s=60)
    last = body["messages"][-1]
    if last["role"] == "user" and last["content"] == "spawn helpers":
        calls = [
            ("spawn_subagent", {"prompt": f"helper {n}", "label": f"helper {n}"})
            for n in range(HELPERS)
        ]
        return Reply.tool_calls(calls)
    return Reply.text("noted")


async def test_a_subagent_cancelled_while_it_waits_for_a_slot_never_starts(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    fake_model.responder = _spawns_helpers_that_wait
    chat_id = engine_server.new_chat()["id"]
    frames = await _post_and_collect(engine_server, chat_id, "spawn helpers")
    assert frames[-1]["status"] == "succeeded"

    def statuses() -> list[str]:
        subagents = _get(engine_server, f"/api/chats/{chat_id}/subagents")["subagents"]
        return [subagent["status"] for subagent in subagents]

    def asked() -> list[str]:
        return [_first_prompt(body) for body in fake_model.requests]

    # All but one hold the chat's slots, waiting on the model; the last waits for a slot.
    wait_for(lambda: sorted(statuses()) == ["queued"] + ["running"] * (HELPERS - 1))
    wait_for(lambda: sum(p.startswith("helper ") for p in asked()) == HELPERS - 1)
    subagents = _get(engine_server, f"/api/chats/{chat_id}/subagents")["subagents"]
    waiting = next(s for s in subagents if s["status"] == "queued")
    with engine_server.client() as http:
        stopped = http.post(f"/api/subagents/{waiting['task_id']}/cancel").json()
        assert stopped == {"task_id": waiting["task_id"], "cancelled": True}
        # It ends while the others still hold every slot: it does not wait for one.
        wait_for(lambda: sorted(statuses()) == ["cancelled"] + ["running"] * (HELPERS - 1))
        http.post(f"/api/chats/{chat_id}/cancel?subagents=true").raise_for_status()
    wait_for(lambda: statuses() == ["cancelled"] * HELPERS)
    frames = await _post_and_collect(engine_server, chat_id, "and now?")
    assert frames[-1]["status"] == "succeeded"

    assert waiting["prompt"] not in asked()  # the model never heard of it
    transcript = _get(engine_server, f"/api/subagents/{waiting['task_id']}")["transcript"]
    assert [m["role"] for m in transcript] == ["user"]
    parent = _get(engine_server, f"/api/chats/{chat_id}/messages")
    assert len([m for m in parent if m["tool_name"] == "spawn_subagent"]) == HELPERS


# A check that says it started, then takes a minute; off for the project, on for one chat. The
# last argument finds its process from outside the sandbox.
CHECK = "import pathlib, time; pathlib.Path('checking').touch(); time.sleep(60)"
CHECK_TAG = "boocode-test-slow-check"
CHECK_CONFIG = (
    f'[autofix]\ncommand = ["python3", "-c", "{CHECK}", "{CHECK_TAG}"]\nenabled = false\n'
)


async def test_cancel_between_steps_stops_before_the_next_model_call(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    """Cancelled while the project's check runs after a file was written: the write keeps its
    result, the check is stopped, and the model is not asked again."""
    config = engine_server.workspace / ".boocode" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(CHECK_CONFIG)
    checking = engine_server.workspace / "checking"
    fake_model.script(
        [
            Reply.tool_calls([("write_file", {"path": "notes.txt", "content": "hello\n"})]),
            Reply.text("Next answer."),
        ]
    )
    chat_id = engine_server.new_chat()["id"]
    with engine_server.client() as http:
        assert http.put(f"/api/chats/{chat_id}/autofix", json={"enabled": True}).is_success
    try:
        async with engine_server.ws(chat_id) as ws, engine_server.async_client() as http:
            await http.post(f"/api/chats/{chat_id}/messages", json={"content": "write"})
            await frames_until(
                ws, lambda f: f["type"] == "message" and f["message"]["role"] == "tool"
            )
            wait_for(checking.exists)
            assert (await http.post(f"/api/chats/{chat_id}/cancel")).json()["cancelled"] is True
            # Long before the check's minute is up.
            assert (await frames_until(ws, turn_ended))[-1]["status"] == "cancelled"
    finally:
        config.unlink()
        checking.unlink(missing_ok=True)
    assert len(fake_model.requests) == 1
    wait_for(lambda: not processes_with(CHECK_TAG), timeout=10)

    frames = await _post_and_collect(engine_server, chat_id, "and now?")
    assert frames[-1]["status"] == "succeeded"
    messages = _get(engine_server, f"/api/chats/{chat_id}/messages")
    (tool,) = [m for m in messages if m["role"] == "tool"]
    assert not tool["is_error"] and not tool["cancelled"]
    assert (engine_server.workspace / "notes.txt").read_text() == "hello\n"
    assert messages[-1]["content"] == "Next answer."


async def test_a_stream_cut_on_every_attempt_fails_the_turn_with_one_clear_error(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    # Cut twice: the first attempt and its one retry (BOOCODE_MODEL_STREAM_ATTEMPTS=2).
    fake_model.script([Reply.cut("half an ans"), Reply.cut("half again"), Reply.text("Fine.")])
    chat_id = engine_server.new_chat()["id"]
    frames = await _post_and_collect(engine_server, chat_id, "answer me")

    assert frames[-1]["status"] == "failed"
    (error,) = [f["message"] for f in frames if f["type"] == "error"]
    assert error == (
        f"The model endpoint {fake_model.base_url} ended its answer without a finish reason "
        "(the stream was cut)."
    )
    assert frames[-1]["error"] == error
    assert len(fake_model.requests) == 2
    assert [m["role"] for m in _get(engine_server, f"/api/chats/{chat_id}/messages")] == ["user"]

    frames = await _post_and_collect(engine_server, chat_id, "again")
    assert frames[-1]["status"] == "succeeded"
