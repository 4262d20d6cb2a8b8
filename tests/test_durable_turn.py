"""A turn killed with SIGKILL mid-way resumes from its last completed step after a restart, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from support.fake_model import FakeModelServer, Reply
from support.processes import boocode_env, query_database, spawn_boocode, wait_for

COUNT_ONCE = (
    "import pathlib; p = pathlib.Path('runs.log');"
    " p.write_text(p.read_text() + 'x' if p.exists() else 'x')"
)


def test_sigkill_mid_turn_resumes_without_repeating_completed_steps(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer, database_env: dict[str, str]
) -> None:
    fake_model.script(
        [
            Reply.tool_calls([("run_command", {"argv": ["python3", "-c", COUNT_ONCE]})]),
            # The process is killed while it waits for this reply.
            Reply.text("never delivered", delay_s=30),
            Reply.text("Resumed and done."),
        ]
    )
    env = boocode_env(tmp_path / "data", workspace, fake_model, **database_env)
    status = "SELECT status FROM agent_runs"
    first = spawn_boocode("run", "count once", env=env)
    wait_for(lambda: len(fake_model.requests) >= 2, timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert query_database(env, status) == [("running",)]

    worker = spawn_boocode("worker", env=env)
    try:
        wait_for(lambda: query_database(env, status) == [("succeeded",)], timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)

    assert (workspace / "runs.log").read_text() == "x"
    rows = query_database(env, "SELECT role, CAST(content AS TEXT) FROM messages ORDER BY id")
    assert [role for role, _ in rows] == ["user", "assistant", "tool", "assistant"]
    assert json.loads(rows[-1][1]) == "Resumed and done."
    # The second model call was retried; the first one and the tool call were not.
    assert len(fake_model.requests) == 3
