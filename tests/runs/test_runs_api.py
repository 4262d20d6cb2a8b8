"""A turn's lifecycle as a client meets it over HTTP and WebSocket, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, frames_until, turn_ended


async def _post_and_collect(
    server: LiveServer, chat_id: str, content: str, timeout: float = 30
) -> list[dict[str, Any]]:
    async with server.ws(chat_id) as ws:
        async with server.async_client() as http:
            response = await http.post(f"/api/chats/{chat_id}/messages", json={"content": content})
            assert response.status_code == 202, response.text
        return await frames_until(ws, turn_ended, timeout=timeout)


def _messages(server: LiveServer, chat_id: str) -> list[dict[str, Any]]:
    with server.client() as http:
        return list(http.get(f"/api/chats/{chat_id}/messages").json())


async def test_concurrent_posts_start_exactly_one_turn(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    fake_model.responder = lambda _body: Reply.text("one answer", delay_s=1.0)
    chat_id = engine_server.new_chat()["id"]
    async with engine_server.ws(chat_id) as ws, engine_server.async_client() as http:
        responses = await asyncio.gather(
            *(
                http.post(f"/api/chats/{chat_id}/messages", json={"content": f"click {n}"})
                for n in range(20)
            )
        )
        await frames_until(ws, turn_ended)
    codes = sorted(response.status_code for response in responses)
    assert codes == [202] + [409] * 19, codes
    refusals = {response.json()["detail"] for response in responses if response.status_code == 409}
    assert refusals == {"turn 1 is still running; wait for it or cancel it"}
    users = [m for m in _messages(engine_server, chat_id) if m["role"] == "user"]
    assert len(users) == 1 and users[0]["turn"] == 1

    # The chat takes the next message once the turn is over.
    frames = await _post_and_collect(engine_server, chat_id, "next")
    assert frames[-1]["status"] == "succeeded" and frames[-1]["turn"] == 2


async def test_a_cut_stream_is_retried_and_the_answer_kept_once(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    fake_model.script([Reply.cut("half an ans"), Reply.text("The whole answer.")])
    chat_id = engine_server.new_chat()["id"]
    frames = await _post_and_collect(engine_server, chat_id, "answer me")

    assert frames[-1]["status"] == "succeeded"
    assert len(fake_model.requests) == 2
    restarts = [f for f in frames if f["type"] == "message_delta" and f["restart"]]
    assert len(restarts) == 2  # the retried call tells the page to drop the cut text
    answers = [m for m in _messages(engine_server, chat_id) if m["role"] == "assistant"]
    assert [m["content"] for m in answers] == ["The whole answer."]


async def test_a_stalled_stream_fails_the_turn_with_one_clear_error(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    # Keep-alives but no tokens, twice (the first attempt and its one retry).
    fake_model.script([Reply.stalled(30, "thinking"), Reply.stalled(30)])
    chat_id = engine_server.new_chat()["id"]
    frames = await _post_and_collect(engine_server, chat_id, "hello", timeout=40)

    assert frames[-1]["status"] == "failed"
    errors = [f for f in frames if f["type"] == "error"]
    assert len(errors) == 1
    assert "sent no text or tool call for 1.5 s" in errors[0]["message"]
    assert fake_model.base_url.rstrip("/") in errors[0]["message"]
    assert len(fake_model.requests) == 2


async def test_a_malformed_reply_is_a_one_line_error_naming_the_endpoint(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    fake_model.script([Reply.malformed()])
    chat_id = engine_server.new_chat()["id"]
    frames = await _post_and_collect(engine_server, chat_id, "hello")

    assert frames[-1]["status"] == "failed"
    errors = [f["message"] for f in frames if f["type"] == "error"]
    assert len(errors) == 1
    assert errors[0].startswith(f"The model endpoint {fake_model.base_url.rstrip('/')}")
    assert "not valid JSON" in errors[0] and "\n" not in errors[0]
    assert "internal error" not in errors[0]


async def test_nul_bytes_from_a_command_and_the_model_are_stored_and_the_chat_goes_on(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    fake_model.script(
        [
            Reply.tool_calls([("run_command", {"argv": ["printf", "a\\0b"]})]),
            Reply.text("It printed a\x00b."),
            Reply.text("Still fine."),
        ]
    )
    chat_id = engine_server.new_chat()["id"]
    frames = await _post_and_collect(engine_server, chat_id, "print a NUL")
    assert frames[-1]["status"] == "succeeded"

    messages = _messages(engine_server, chat_id)
    tool = next(m for m in messages if m["role"] == "tool")
    assert "a\u2400b" in tool["content"] and not tool["is_error"]
    assert messages[-1]["content"] == "It printed a\u2400b."

    frames = await _post_and_collect(engine_server, chat_id, "and again")
    assert frames[-1]["status"] == "succeeded"
    # The next request was valid: every tool call answered, the stored text sent back.
    sent = fake_model.requests[-1]["messages"]
    assert any(m["role"] == "tool" and "a\u2400b" in m["content"] for m in sent)


def _spawns_a_subagent_with_a_nul(body: dict[str, Any]) -> Reply:
    """The chat titled "a NUL b" spawns a subagent whose prompt (and so label) holds a NUL."""
    messages = body["messages"]
    first = next(m["content"] for m in messages if m["role"] == "user")
    if first == "sub\u2400task":
        return Reply.text("sub done")
    if messages[-1]["role"] == "user" and messages[-1]["content"] == "a\u2400b":
        return Reply.tool_calls([("spawn_subagent", {"prompt": "sub\x00task"})])
    return Reply.text("noted")


def _settled(server: LiveServer, chat_id: str, timeout: float = 30) -> list[dict[str, Any]]:
    """The chat's subagents once they ended and the woken parent answered the last of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.client() as http:
            subagents = http.get(f"/api/chats/{chat_id}/subagents").json()["subagents"]
        last = _messages(server, chat_id)[-1]
        if subagents and all(s["notified"] for s in subagents) and last["content"] == "noted":
            return list(subagents)
        time.sleep(0.1)
    raise AssertionError(f"the chat did not settle: {subagents}")


async def test_nul_bytes_in_titles_and_labels_are_stored_on_both_engines(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    fake_model.responder = _spawns_a_subagent_with_a_nul
    chat_id = engine_server.new_chat()["id"]
    frames = await _post_and_collect(engine_server, chat_id, "a\x00b")
    assert frames[-1]["status"] == "succeeded", frames[-1]

    (subagent,) = _settled(engine_server, chat_id)
    assert subagent["label"] == "sub\u2400task" and subagent["status"] == "succeeded"
    with engine_server.client() as http:
        assert http.get(f"/api/chats/{chat_id}").json()["title"] == "a\u2400b"
        renamed = http.patch(f"/api/chats/{chat_id}", json={"title": "x\x00y"})
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["title"] == "x\u2400y"
        assert http.get(f"/api/chats/{chat_id}").json()["title"] == "x\u2400y"
        found = http.get("/api/chats", params={"q": "x\x00y"}).json()["items"]
        assert [chat["id"] for chat in found] == [chat_id]


@contextlib.contextmanager
def _table_taken_away(server: LiveServer, table: str) -> Iterator[None]:
    """A real storage fault: the server's `table` renamed for the block, then given back."""
    server.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        yield
    finally:
        server.execute(f"ALTER TABLE {table}_away RENAME TO {table}")


async def test_a_run_broken_by_storage_shows_one_line_not_its_sql(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    fake_model.script([Reply.text("An answer never asked for.")])
    chat_id = engine_server.new_chat()["id"]
    with _table_taken_away(engine_server, "tool_traces"):
        frames = await _post_and_collect(engine_server, chat_id, "hello")

    assert frames[-1]["status"] == "failed"
    assert frames[-1]["error"] == "internal error: the run stopped (see the server log)"
    errors = [f["message"] for f in frames if f["type"] == "error"]
    assert errors == [frames[-1]["error"]]
    assert "tool_traces" not in json.dumps(frames)
    # The cause is in the server log, with the run it stopped.
    assert "tool_traces" in engine_server.log
    assert f"turn 1 of chat {chat_id}) failed" in engine_server.log


INTERNAL_ERROR = "internal error: the run stopped (see the server log)"


@contextlib.contextmanager
def _runs_refused_to_start(server: LiveServer) -> Iterator[None]:
    """A real storage fault in a turn's first step: the database refuses to mark a run
    running (a trigger), and accepts every other write."""
    if server.env.get("BOOCODE_DATABASE_URL"):
        server.execute(
            "CREATE FUNCTION refuse_running() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'runs may not start'; END $$"
        )
        server.execute(
            "CREATE TRIGGER refuse_running BEFORE UPDATE ON agent_runs FOR EACH ROW"
            " WHEN (NEW.status = 'running') EXECUTE FUNCTION refuse_running()"
        )
    else:
        server.execute(
            "CREATE TRIGGER refuse_running BEFORE UPDATE ON agent_runs"
            " WHEN NEW.status = 'running' BEGIN SELECT RAISE(ABORT, 'runs may not start'); END"
        )
    try:
        yield
    finally:
        postgres = bool(server.env.get("BOOCODE_DATABASE_URL"))
        server.execute("DROP TRIGGER refuse_running" + (" ON agent_runs" if postgres else ""))


def _unanswered(messages: list[dict[str, Any]]) -> set[str]:
    """The ids of tool calls with no tool result among `messages` (provider format)."""
    asked = {call["id"] for m in messages for call in m.get("tool_calls") or []}
    return asked - {m["tool_call_id"] for m in messages if m["role"] == "tool"}


async def _ends_failed_then_takes_the_next_message(
    server: LiveServer, fake_model: FakeModelServer, chat_id: str, frames: list[dict[str, Any]]
) -> None:
    """The broken run ended recorded, with the one internal-error line, and the chat goes on."""
    assert frames[-1]["status"] == "failed" and frames[-1]["error"] == INTERNAL_ERROR
    assert [f["message"] for f in frames if f["type"] == "error"] == [INTERNAL_ERROR]
    with server.client() as http:
        (turn,) = http.get(f"/api/chats/{chat_id}/timeline").json()["turns"]
    assert turn["status"] == "failed" and turn["error"] == INTERNAL_ERROR
    fake_model.script([Reply.text("Back to normal.")])
    frames = await _post_and_collect(server, chat_id, "are you there?")
    assert frames[-1]["status"] == "succeeded" and frames[-1]["turn"] == 2
    assert _unanswered(fake_model.requests[-1]["messages"]) == set()


async def test_a_run_whose_last_step_breaks_ends_failed_and_the_chat_goes_on(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    # The run's end clears its command records: with their table gone, that step fails.
    fake_model.script(
        [
            Reply.tool_calls([("read_file", {"path": "README.md"})]),
            Reply.text("Read it."),
        ]
    )
    chat_id = engine_server.new_chat()["id"]
    with _table_taken_away(engine_server, "running_commands"):
        frames = await _post_and_collect(engine_server, chat_id, "read the readme")
    await _ends_failed_then_takes_the_next_message(engine_server, fake_model, chat_id, frames)
    assert "running_commands" in engine_server.log


async def test_a_command_whose_record_cannot_be_stored_is_answered_and_the_chat_goes_on(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    fake_model.script(
        [
            Reply.tool_calls([("run_command", {"argv": ["echo", "hi"]})]),
            Reply.text("Ran it."),
        ]
    )
    chat_id = engine_server.new_chat()["id"]
    with _table_taken_away(engine_server, "running_commands"):
        frames = await _post_and_collect(engine_server, chat_id, "run echo")
    await _ends_failed_then_takes_the_next_message(engine_server, fake_model, chat_id, frames)


async def test_a_run_whose_first_step_breaks_ends_failed_and_the_chat_goes_on(
    engine_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id = engine_server.new_chat()["id"]
    with _runs_refused_to_start(engine_server):
        frames = await _post_and_collect(engine_server, chat_id, "hello")
    assert not [f for f in frames if f["type"] == "turn_start"]
    assert fake_model.requests == []  # it never reached the model
    await _ends_failed_then_takes_the_next_message(engine_server, fake_model, chat_id, frames)
    assert "runs may not start" in engine_server.log


def test_a_storage_fault_while_serving_is_a_json_503(engine_server: LiveServer) -> None:
    """The last test of the module: it takes the chats table away, then gives it back."""
    with _table_taken_away(engine_server, "chats"), engine_server.client() as http:
        response = http.get("/api/chats")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": "storage is unavailable; try again shortly (the server log has the cause)"
    }
    with engine_server.client() as http:
        assert http.get("/api/chats").status_code == 200
