"""The loop end to end, as a user runs it: `boocode run` on a real Python project, the fake
model scripted to break a file, read the errors, and fix it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autofix.projects import python_project, query, tools_env
from support.fake_model import FakeModelServer, Reply
from support.processes import boocode_env, query_sqlite, run_boocode

BROKEN = "def double(x):\n    return 2 * (x\n"
FIXED = "def double(x):\n    return 2 * x\n"


def _run(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer, database_url: str | None = None
) -> tuple[Any, list[dict]]:
    env = boocode_env(tmp_path / "data", workspace, fake_model, **tools_env())
    if database_url is not None:
        env["BOOCODE_DATABASE_URL"] = database_url
    result = run_boocode("run", "make double() robust", "--json", env=env)
    frames = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, frames


def _messages_after(request: dict[str, Any], count: int) -> list[dict[str, Any]]:
    return list(request["messages"][count:])


def test_a_broken_write_is_checked_fed_back_fixed_and_checked_again(
    tmp_path: Path, project: Path, fake_model: FakeModelServer, database_url: str
) -> None:
    fake_model.script(
        [
            Reply.tool_calls([("write_file", {"path": "pkg/mod.py", "content": BROKEN})]),
            Reply.tool_calls([("write_file", {"path": "pkg/mod.py", "content": FIXED})]),
            Reply.text("Fixed the syntax error in pkg/mod.py."),
        ]
    )

    result, frames = _run(tmp_path, project, fake_model, database_url)

    assert result.returncode == 0, result.stderr
    assert (project / "pkg" / "mod.py").read_text() == FIXED
    _, second, third = fake_model.requests
    # The errors reach the very next model call, appended after the write's tool result.
    feedback = second["messages"][-1]
    assert second["messages"][-2]["role"] == "tool"
    assert feedback["role"] == "user"
    assert feedback["content"].startswith("Auto-fix: `ruff check .` failed (exit 1)")
    assert "Attempt 1 of 3" in feedback["content"]
    assert "pkg/mod.py:2" in feedback["content"]
    # After the fix the check passes, and the model is told so before it answers.
    assert third["messages"][-1] == {
        "role": "user",
        "content": "Auto-fix: `ruff check .` passes now.",
    }
    runs = [f["run"] for f in frames if f["type"] == "autofix"]
    assert [(r["status"], r["exit_code"]) for r in runs] == [
        ("running", None),
        ("failed", 1),
        ("running", None),
        ("passed", 0),
    ]
    assert frames[-1]["type"] == "turn_end" and frames[-1]["status"] == "succeeded"
    chat_id = frames[0]["chat_id"]
    traces = query(
        database_url,
        "SELECT tool_name, input, outcome, error, latency_ms, output FROM tool_traces "
        f"WHERE kind = 'autofix' AND chat_id = '{chat_id}' ORDER BY id",
    )
    assert [(name, outcome, error) for name, _, outcome, error, _, _ in traces] == [
        ("autofix", "error", "exit code 1"),
        ("autofix", "ok", None),
    ]
    recorded = traces[0][1]
    recorded = json.loads(recorded) if isinstance(recorded, str) else recorded
    assert recorded["command"] == ["ruff", "check", "."]
    assert traces[0][4] > 0
    assert traces[0][5].startswith("exit code: 1 (") and "pkg/mod.py" in traces[0][5]
    stored = query(
        database_url,
        "SELECT role, tool_name FROM messages "
        f"WHERE tool_name = 'autofix' AND chat_id = '{chat_id}' ORDER BY id",
    )
    assert stored == [("user", "autofix"), ("user", "autofix")]


def test_the_request_after_an_injection_extends_the_one_before_byte_for_byte(
    tmp_path: Path, project: Path, fake_model: FakeModelServer
) -> None:
    fake_model.script(
        [
            Reply.tool_calls([("write_file", {"path": "pkg/mod.py", "content": BROKEN})]),
            Reply.text("I will leave it for now."),
        ]
    )

    result, _ = _run(tmp_path, project, fake_model)

    assert result.returncode == 0, result.stderr
    before, after = fake_model.raw_requests
    before_messages, after_messages = _raw_messages(before), _raw_messages(after)
    # The earlier array, without its closing bracket, starts the later one byte for byte.
    assert after_messages.startswith(before_messages[:-1] + b",")
    assert json.loads(after_messages)[-1]["content"].startswith("Auto-fix: `ruff check .`")
    parsed_before, parsed_after = fake_model.requests
    assert parsed_before["tools"] == parsed_after["tools"]
    assert parsed_before["messages"][0] == parsed_after["messages"][0]
    assert parsed_before["messages"][0]["role"] == "system"


def test_attempts_are_bounded_and_the_turn_ends_with_the_failure_visible(
    tmp_path: Path, fake_model: FakeModelServer
) -> None:
    project = python_project(tmp_path / "project", autofix="max_attempts = 2")
    write_broken = Reply.tool_calls([("write_file", {"path": "pkg/mod.py", "content": BROKEN})])
    fake_model.script([write_broken, write_broken, write_broken, Reply.text("never asked")])

    result, frames = _run(tmp_path, project, fake_model)

    assert result.returncode == 1
    # Two attempts to fix, then the third failure ends the turn: no fourth model call.
    assert len(fake_model.requests) == 3
    end = frames[-1]
    assert end["type"] == "turn_end" and end["status"] == "failed"
    assert end["error"] == "auto-fix gave up: `ruff check .` still fails (exit 1) after 2 attempts"
    runs = [f["run"] for f in frames if f["type"] == "autofix" and f["run"]["status"] != "running"]
    assert [(r["attempt"], r["gave_up"]) for r in runs] == [(1, False), (2, False), (3, True)]
    notes = query_sqlite(
        tmp_path / "data",
        "SELECT content FROM messages WHERE tool_name = 'autofix' ORDER BY id",
    )
    texts = [json.loads(content) for (content,) in notes]
    assert "Attempt 1 of 2" in texts[0] and "Attempt 2 of 2" in texts[1]
    assert texts[2].startswith("Auto-fix: `ruff check .` still fails (exit 1) after 2 attempts")
    assert "turn ends" in texts[2]
    status = query_sqlite(tmp_path / "data", "SELECT status, error FROM agent_runs")
    assert status == [("failed", end["error"])]


def test_no_check_runs_when_nothing_was_written(
    tmp_path: Path, project: Path, fake_model: FakeModelServer
) -> None:
    fake_model.script(
        [Reply.tool_calls([("read_file", {"path": "pkg/mod.py"})]), Reply.text("Looks fine.")]
    )

    result, frames = _run(tmp_path, project, fake_model)

    assert result.returncode == 0, result.stderr
    assert not [f for f in frames if f["type"] == "autofix"]
    assert all(
        not str(m.get("content", "")).startswith("Auto-fix:")
        for m in fake_model.requests[-1]["messages"]
    )


def _raw_messages(body: bytes) -> bytes:
    """The exact bytes of the `messages` array inside a raw request body."""
    text = body.decode()
    start = text.index('"messages":') + len('"messages":')
    while text[start].isspace():
        start += 1
    _, end = json.JSONDecoder().raw_decode(text, start)
    return text[start:end].encode()
