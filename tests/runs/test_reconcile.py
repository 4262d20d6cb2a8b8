"""A run record left `running` whose DBOS workflow has ended, as a restart and a live server
meet it: the record takes the workflow's final status, every tool call gets an answer, and the
chat takes the next message. On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer
from support.processes import wait_for

INTERNAL_ERROR = "internal error: the run stopped (see the server log)"


def _reads_then_answers(body: dict[str, Any]) -> Reply:
    """Each turn reads the README once, then answers."""
    if body["messages"][-1]["role"] == "tool":
        return Reply.text("Read it.")
    return Reply.tool_calls([("read_file", {"path": "README.md"})])


def _turn(server: LiveServer, chat_id: str, content: str) -> str:
    """Post a message and wait until its turn has ended; return its run id."""
    with server.client() as http:
        accepted = http.post(f"/api/chats/{chat_id}/messages", json={"content": content})
        assert accepted.status_code == 202, accepted.text
    run_id = str(accepted.json()["task_id"])
    wait_for(lambda: _turn_status(server, chat_id, accepted.json()["turn"]) == "succeeded")
    return run_id


def _turn_status(server: LiveServer, chat_id: str, turn: int) -> str | None:
    return next((t["status"] for t in _timeline(server, chat_id) if t["turn"] == turn), None)


def _left_running(server: LiveServer, run_id: str, workflow_status: str) -> None:
    """What a run whose workflow ended before its record leaves: DBOS says `workflow_status`,
    the record still says running. DBOS's row first, so nothing settles the run in between."""
    update = "UPDATE {table} SET status = ? WHERE workflow_uuid = ?"
    if server.env.get("BOOCODE_DATABASE_URL"):
        server.execute(update.format(table="dbos.workflow_status"), workflow_status, run_id)
    else:
        dbos = sqlite3.connect(server.data_dir / "dbos.sqlite")
        with contextlib.closing(dbos), dbos:
            dbos.execute(update.format(table="workflow_status"), (workflow_status, run_id))
    server.execute(
        "UPDATE agent_runs SET status = 'running', error = NULL, finished_at = NULL WHERE id = ?",
        run_id,
    )


def _timeline(server: LiveServer, chat_id: str) -> list[dict[str, Any]]:
    with server.client() as http:
        return list(http.get(f"/api/chats/{chat_id}/timeline").json()["turns"])


def _tool_results(server: LiveServer, chat_id: str) -> list[str]:
    with server.client() as http:
        messages = http.get(f"/api/chats/{chat_id}/messages").json()
    return [m["content"] for m in messages if m["role"] == "tool"]


# DBOS's final statuses, and what the record becomes.
ENDINGS = {
    "SUCCESS": ("succeeded", None),  # the status the workflow returned
    "ERROR": ("failed", INTERNAL_ERROR),
    "CANCELLED": ("cancelled", None),
    "MAX_RECOVERY_ATTEMPTS_EXCEEDED": ("failed", INTERNAL_ERROR),
}


def test_a_restart_gives_each_running_record_its_ended_workflows_status(
    tmp_path: Path, fake_model: FakeModelServer, engine_env: dict[str, str]
) -> None:
    fake_model.responder = _reads_then_answers
    server = LiveServer.start(tmp_path, env=engine_env)
    try:
        chats = {ending: server.new_chat()["id"] for ending in ENDINGS}
        runs = {
            ending: _turn(server, chat_id, "read the readme") for ending, chat_id in chats.items()
        }
    finally:
        server.stop()
    for ending, run_id in runs.items():
        _left_running(server, run_id, ending)
    # The failed run's tool call lost its answer: the restart must give it one.
    server.execute("DELETE FROM messages WHERE role = 'tool' AND chat_id = ?", chats["ERROR"])

    restarted = LiveServer.start(tmp_path, env=engine_env)
    try:
        for ending, (status, error) in ENDINGS.items():
            (turn,) = _timeline(restarted, chats[ending])
            assert (turn["status"], turn["error"]) == (status, error), ending
        assert _tool_results(restarted, chats["ERROR"]) == ["not run: the turn ended (failed)"]
        for ending in sorted(chats, key=lambda e: e == "ERROR"):  # each takes the next message
            _turn(restarted, chats[ending], "and again")
        sent = fake_model.requests[-1]["messages"]  # the failed run's chat, asked last
        asked = {call["id"] for m in sent for call in m.get("tool_calls") or []}
        assert asked == {m["tool_call_id"] for m in sent if m["role"] == "tool"}
    finally:
        restarted.stop()


def test_a_live_server_ends_its_run_whose_workflow_ended_in_error(
    tmp_path: Path, fake_model: FakeModelServer, engine_env: dict[str, str]
) -> None:
    fake_model.responder = _reads_then_answers
    server = LiveServer.start(tmp_path, env={**engine_env, "BOOCODE_EXECUTOR_SWEEP_S": "0.2"})
    try:
        chat_id = server.new_chat()["id"]
        run_id = _turn(server, chat_id, "read the readme")
        # As if the turn's last step and the step that ends a broken run had both failed.
        _left_running(server, run_id, "ERROR")
        wait_for(lambda: _turn_status(server, chat_id, 1) == "failed")
        (turn,) = _timeline(server, chat_id)
        assert turn["error"] == INTERNAL_ERROR
        _turn(server, chat_id, "and again")
    finally:
        server.stop()
