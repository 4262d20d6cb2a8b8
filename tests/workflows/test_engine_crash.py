"""A workflow run SIGKILLed mid-run with its server: after a restart the run finishes, and the
agents that had ended are not asked again."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env
from support.processes import wait_for

pytestmark = pytest.mark.slow

SCRIPT = """
export const meta = { name: "crash-me", description: "two quick agents, a slow one, a last one" }
const first = await parallel(["quick 1", "quick 2", "slow"].map((p) => () => agent(p)))
return [...first, await agent("last")]
"""


def _prompt(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in body["messages"] if m["role"] == "user"))


def respond(body: dict[str, Any]) -> Reply:
    prompt = _prompt(body)
    return Reply.text(f"done {prompt}", delay_s=4.0 if prompt == "slow" else 0.0)


def _run(server: LiveServer, run_id: str) -> dict[str, Any] | None:
    try:
        with server.client() as http:
            return dict(http.get(f"/api/workflow-runs/{run_id}").json())
    except Exception:
        return None


def test_a_killed_run_resumes_and_keeps_the_agents_that_ended(
    tmp_path: Path, fake_model: FakeModelServer
) -> None:
    fake_model.responder = respond
    env = fake_model_env(fake_model)
    server = LiveServer.start(tmp_path, env=env)
    chat_id = server.new_chat()["id"]
    with server.client() as http:
        run_id = http.post(f"/api/chats/{chat_id}/workflows", json={"script": SCRIPT}).json()[
            "run_id"
        ]

    def quick_ones_done() -> bool:
        run = _run(server, run_id) or {"agents": []}
        done = [a for a in run["agents"] if a["status"] == "succeeded"]
        return len(done) == 2 and len(run["agents"]) == 3

    wait_for(quick_ones_done, timeout=30)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)

    restarted = LiveServer.start(tmp_path, env=env)
    try:
        run = wait_for(
            lambda: (r := _run(restarted, run_id)) and r["status"] == "succeeded" and r, timeout=60
        )
    finally:
        restarted.stop()
    assert run["result"] == ["done quick 1", "done quick 2", "done slow", "done last"]
    asked = [_prompt(body) for body in fake_model.requests]
    assert asked.count("quick 1") == asked.count("quick 2") == asked.count("last") == 1
    assert 1 <= asked.count("slow") <= 2  # its model call was cut by the kill, then made again
    assert len(run["agents"]) == 4
