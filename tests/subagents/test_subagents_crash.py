"""Subagents as crashes meet them: a server SIGKILLed with one running and two queued, and on
PostgreSQL a worker SIGKILLed mid-run while two workers share twenty subagents."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env
from support.processes import wait_for

from .test_subagents_api import _get

pytestmark = pytest.mark.slow


def _fan_out(count: int, answer_delay_s: float) -> Callable[[dict[str, Any]], Reply]:
    """The parent spawns `count` subagents; each appends its name to ran.log with one command,
    then answers after `answer_delay_s` (the window in which a process is killed)."""

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        first = messages[1]["content"]
        tools = [m for m in messages if m["role"] == "tool"]
        if first.startswith("task "):
            if not tools:
                argv = ["sh", "-c", f"echo {first.split()[1]} >> ran.log"]
                return Reply.tool_calls([("run_command", {"argv": argv})])
            return Reply.text(f"done {first.split()[1]}", delay_s=answer_delay_s)
        if first == "fan out" and not tools:
            return Reply.tool_calls(
                [
                    ("spawn_subagent", {"prompt": f"task t{n}", "label": f"t{n}"})
                    for n in range(count)
                ]
            )
        return Reply.text("noted")

    return respond


def _settled(server: LiveServer, chat_id: str, count: int) -> list[dict[str, Any]] | None:
    try:
        subagents = _get(server, f"/api/chats/{chat_id}/subagents")["subagents"]
    except Exception:
        return None
    if len(subagents) == count and all(
        s["status"] == "succeeded" and s["answer"] is not None for s in subagents
    ):
        return list(subagents)
    return None


def test_a_server_killed_with_subagents_running_and_queued_finishes_them_after_restart(
    tmp_path: Path, fake_model: FakeModelServer
) -> None:
    fake_model.responder = _fan_out(3, answer_delay_s=3.0)
    env = {**fake_model_env(fake_model), "BOOCODE_SUBAGENT_CHAT_CONCURRENCY": "1"}
    server = LiveServer.start(tmp_path, env=env)
    chat_id = server.new_chat()["id"]
    with server.client() as http:
        assert http.post(f"/api/chats/{chat_id}/messages", json={"content": "fan out"}).is_success
    ran = server.workspace / "ran.log"
    wait_for(lambda: ran.exists() and ran.read_text().strip(), timeout=30)
    statuses = sorted(
        s["status"] for s in _get(server, f"/api/chats/{chat_id}/subagents")["subagents"]
    )
    assert statuses == ["queued", "queued", "running"]
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)

    restarted = LiveServer.start(tmp_path, env=env)
    try:
        subagents = wait_for(lambda: _settled(restarted, chat_id, 3), timeout=60)
        assert sorted(s["answer"] for s in subagents) == ["done t0", "done t1", "done t2"]
        # The command the killed subagent had finished was not run again.
        assert sorted(ran.read_text().split()) == ["t0", "t1", "t2"]
        wait_for(
            lambda: all(
                s["notified"]
                for s in _get(restarted, f"/api/chats/{chat_id}/subagents")["subagents"]
            )
        )
    finally:
        restarted.stop()


def _commands_done(postgres_url: str, chat_id: str) -> int:
    """Tool results stored by the subagents of `chat_id`: commands that ended."""
    with psycopg.connect(postgres_url) as db:
        row = db.execute(
            "SELECT COUNT(*) FROM messages m JOIN chats c ON c.id = m.chat_id"
            " WHERE m.role = 'tool' AND c.parent_chat_id = %s",
            (chat_id,),
        ).fetchone()
    return int(row[0]) if row else 0


def _worker(root: Path, env: dict[str, str]) -> LiveServer:
    worker = LiveServer.start(root, command="worker", env=env, wait=False)
    wait_for(lambda: "boocode worker" in worker.log, timeout=40)
    return worker


def test_two_workers_share_twenty_subagents_and_one_dies_mid_run(
    postgres_url: str, tmp_path: Path, fake_model: FakeModelServer
) -> None:
    # Ten run at once: each runs its command, then waits 4 s for its model; the worker dies
    # in that wait, when no command is in flight (one killed mid-way is run again, with a
    # note to the model: tests/runs/test_runs_crash.py).
    fake_model.responder = _fan_out(20, answer_delay_s=4.0)
    shared = {
        **fake_model_env(fake_model),
        "BOOCODE_DATABASE_URL": postgres_url,
        "BOOCODE_EXECUTOR_SWEEP_S": "0.5",
        "BOOCODE_SUBAGENT_CONCURRENCY": "10",
        "BOOCODE_SUBAGENT_CHAT_CONCURRENCY": "10",
    }
    api = LiveServer.start(tmp_path / "serve", args=["--no-worker"], env=shared)
    workers = [
        _worker(tmp_path / f"worker{n}", {**shared, "BOOCODE_WORKSPACE": str(api.workspace)})
        for n in range(2)
    ]
    try:
        chat_id = api.new_chat()["id"]
        with api.client() as http:
            assert http.post(
                f"/api/chats/{chat_id}/messages", json={"content": "fan out"}
            ).is_success
        ran = api.workspace / "ran.log"
        wait_for(lambda: _commands_done(postgres_url, chat_id) == 10, timeout=60)
        with psycopg.connect(postgres_url) as db:
            executors = {
                row[0]
                for row in db.execute(
                    "SELECT executor_id FROM agent_runs"
                    " WHERE kind = 'subagent' AND status = 'running'"
                )
            }
        dying = next(w for w in workers if any(f"worker {e} " in w.log for e in executors))
        dying.process.send_signal(signal.SIGKILL)
        dying.process.wait(timeout=10)

        subagents = wait_for(lambda: _settled(api, chat_id, 20), timeout=120)
        assert sorted(s["answer"] for s in subagents) == sorted(f"done t{n}" for n in range(20))
        # Every command ran once: none of the dead worker's finished steps ran again.
        assert sorted(ran.read_text().split()) == sorted(f"t{n}" for n in range(20))
        with psycopg.connect(postgres_url) as db:
            finishers = {
                row[0]
                for row in db.execute(
                    "SELECT w.executor_id FROM dbos.workflow_status w JOIN agent_runs r"
                    " ON r.id = w.workflow_uuid WHERE r.kind = 'subagent'"
                )
            }
        # The runs it left were finished by a live process (DBOS hands a dead executor's runs
        # to whichever process takes them first, the API process included).
        dead = {e for e in executors if f"worker {e} " in dying.log}
        assert finishers - dead, finishers
    finally:
        for process in [*workers, api]:
            process.stop()
