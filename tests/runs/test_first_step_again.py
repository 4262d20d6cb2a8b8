"""A run's first step killed after it marked the run running, or its last step killed after it
recorded the run's end, then run again by the next server: the run's start and end are each
announced once. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer
from support.processes import wait_for

# The subagent's start hook runs inside its run's first step, after the run is marked running:
# the first time it holds the step there (until the server is killed), then it passes.
HOLD_ONCE = (
    "import os, time\n"
    "if not os.path.exists('held'):\n"
    "    open('held', 'w').close()\n"
    "    time.sleep(120)\n"
)
HOOKS = f"""
[hooks]
subagent_start = [["python3", "-c", {HOLD_ONCE!r}]]
"""
# The stop hook runs inside the last step, after the run's end is recorded and announced.
STOP_HOOKS = f"""
[hooks]
subagent_stop = [["python3", "-c", {HOLD_ONCE!r}]]
"""


def _spawns_one_subagent(body: dict[str, Any]) -> Reply:
    first = next(m["content"] for m in body["messages"] if m["role"] == "user")
    if first == "look around":
        return Reply.text("looked")
    # Once: the subagent's result may reach this chat, as a notification, before its run ends.
    if any(m["role"] == "tool" for m in body["messages"]):
        return Reply.text("spawned")
    return Reply.tool_calls([("spawn_subagent", {"prompt": "look around"})])


def _subagents(server: LiveServer, chat_id: str) -> list[dict[str, Any]]:
    with server.client() as http:
        return list(http.get(f"/api/chats/{chat_id}/subagents").json()["subagents"])


def _killed_in_a_step(
    tmp_path: Path, engine_env: dict[str, str], hooks: str
) -> tuple[str, dict[str, Any]]:
    """A server whose chat spawns one subagent, killed while `hooks` hold one of the
    subagent's steps: the chat's id and the subagent as the server last showed it."""
    (tmp_path / "workspace" / ".boocode").mkdir(parents=True)
    (tmp_path / "workspace" / ".boocode" / "config.toml").write_text(hooks)
    server = LiveServer.start(tmp_path, env=engine_env)
    try:
        chat_id = server.new_chat()["id"]
        with server.client() as http:
            posted = http.post(f"/api/chats/{chat_id}/messages", json={"content": "spawn"})
            assert posted.status_code == 202, posted.text
        wait_for(lambda: (server.workspace / "held").exists())
        (subagent,) = _subagents(server, chat_id)
    finally:
        server.process.kill()  # mid-step: what the step wrote is there, the step not recorded
        server.process.wait(timeout=10)
    return chat_id, subagent


def test_a_first_step_run_again_after_a_crash_announces_the_run_once(
    tmp_path: Path, fake_model: FakeModelServer, engine_env: dict[str, str]
) -> None:
    fake_model.responder = _spawns_one_subagent
    chat_id, subagent = _killed_in_a_step(tmp_path, engine_env, HOOKS)
    assert subagent["status"] == "running"

    restarted = LiveServer.start(tmp_path, env=engine_env)
    try:
        wait_for(lambda: _subagents(restarted, chat_id)[0]["status"] == "succeeded", timeout=60)
        starts = restarted.query(
            "SELECT COUNT(*) FROM events WHERE chat_id = ? AND type = 'turn_start'",
            subagent["conversation_id"],
        )
        assert starts == [(1,)]
    finally:
        restarted.stop()


def test_a_last_step_run_again_after_a_crash_announces_the_end_once(
    tmp_path: Path, fake_model: FakeModelServer, engine_env: dict[str, str]
) -> None:
    fake_model.responder = _spawns_one_subagent
    chat_id, subagent = _killed_in_a_step(tmp_path, engine_env, STOP_HOOKS)
    assert subagent["status"] == "succeeded"  # recorded; its last step not

    restarted = LiveServer.start(tmp_path, env=engine_env)
    try:
        conversation = subagent["conversation_id"]
        # The last step ran again, to its end this time: DBOS has the subagent's workflow done.
        done = "SELECT status FROM workflow_status WHERE workflow_uuid = ?"
        wait_for(
            lambda: restarted.query(done, subagent["task_id"], dbos=True) == [("SUCCESS",)],
            timeout=60,
        )
        ends = restarted.query(
            "SELECT COUNT(*) FROM events WHERE chat_id = ? AND type = 'turn_end'", conversation
        )
        assert ends == [(1,)]
        (after,) = _subagents(restarted, chat_id)
        assert after["status"] == "succeeded", after
    finally:
        restarted.stop()
