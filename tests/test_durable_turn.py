"""A turn killed with SIGKILL mid-way resumes from its last completed step after a restart."""

from __future__ import annotations

import signal
from pathlib import Path

from support.fake_model import FakeModelServer, Reply
from support.processes import boocode_env, query_sqlite, spawn_boocode, wait_for

COUNT_ONCE = (
    "import pathlib; p = pathlib.Path('runs.log');"
    " p.write_text(p.read_text() + 'x' if p.exists() else 'x')"
)


def test_sigkill_mid_turn_resumes_without_repeating_completed_steps(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    data = tmp_path / "data"
    fake_model.script(
        [
            Reply.tool_calls([("run_command", {"argv": ["python3", "-c", COUNT_ONCE]})]),
            # The process is killed while it waits for this reply.
            Reply.text("never delivered", delay_s=30),
            Reply.text("Resumed and done."),
        ]
    )
    env = boocode_env(data, workspace, fake_model)
    first = spawn_boocode("run", "count once", env=env)
    wait_for(lambda: len(fake_model.requests) >= 2, timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert query_sqlite(data, "SELECT status FROM agent_runs") == [("running",)]

    worker = spawn_boocode("worker", env=env)
    try:
        wait_for(
            lambda: query_sqlite(data, "SELECT status FROM agent_runs") == [("succeeded",)],
            timeout=60,
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)

    assert (workspace / "runs.log").read_text() == "x"
    rows = query_sqlite(data, "SELECT role, content FROM messages ORDER BY id")
    assert [role for role, _ in rows] == ["user", "assistant", "tool", "assistant"]
    assert rows[-1][1] == '"Resumed and done."'
    # The second model call was retried; the first one and the tool call were not.
    assert len(fake_model.requests) == 3
    tool_calls = query_sqlite(data, "SELECT COUNT(*) FROM messages WHERE role = 'tool'")
    assert tool_calls == [(1,)]
