"""`boocode run` as a user runs it: a real process, the fake model over HTTP, or the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.fake_model import FakeModelServer, Reply
from support.processes import boocode_env, query_sqlite, run_boocode

HEAVY_LIBRARIES = {"dbos", "fastapi", "sqlalchemy", "openai", "uvicorn", "alembic"}


def test_run_writes_a_file_runs_a_command_and_answers(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    fake_model.script(
        [
            Reply.tool_calls([("write_file", {"path": "out/hello.txt", "content": "hi\n"})]),
            Reply.tool_calls([("run_command", {"argv": ["python3", "-c", "print(6*7)"]})]),
            Reply.text("I wrote out/hello.txt and the command printed 42."),
        ]
    )
    env = boocode_env(tmp_path / "data", workspace, fake_model)

    result = run_boocode("run", "write hello and compute", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("the command printed 42.\n")
    assert (workspace / "out" / "hello.txt").read_text() == "hi\n"
    tool_results = [m for m in fake_model.requests[-1]["messages"] if m["role"] == "tool"]
    assert "42" in tool_results[-1]["content"]
    assert "chat: " in result.stderr


def test_run_json_prints_one_event_per_line_and_continues_a_chat(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    fake_model.script([Reply.text("first answer"), Reply.text("second answer")])
    env = boocode_env(tmp_path / "data", workspace, fake_model)

    first = run_boocode("run", "one", "--json", env=env)
    events = [json.loads(line) for line in first.stdout.splitlines()]
    chat_id = events[0]["chat_id"]
    second = run_boocode("run", "two", "--chat", chat_id, "--json", env=env)
    later = [json.loads(line) for line in second.stdout.splitlines()]

    assert first.returncode == 0 and second.returncode == 0
    assert events[0]["type"] == "message"
    assert events[-1]["type"] == "turn_end" and events[-1]["status"] == "succeeded"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert later[0]["seq"] == events[-1]["seq"] + 1
    assert {e["chat_id"] for e in later} == {chat_id}
    sent = fake_model.requests[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["one", "two"]
    turns = query_sqlite(tmp_path / "data", "SELECT turn_number, status FROM agent_runs ORDER BY 1")
    assert turns == [(1, "succeeded"), (2, "succeeded")]


def test_run_with_no_key_completes_a_turn_on_the_demo_model(
    tmp_path: Path, workspace: Path
) -> None:
    result = run_boocode("run", "what is here?", env=boocode_env(tmp_path / "data", workspace))

    assert result.returncode == 0, result.stderr
    assert "offline demo model" in result.stdout
    assert '"# Sample project"' in result.stdout
    assert "the next boocode run reads it" in result.stdout
    assert "restart the server" not in result.stdout
    for tool in ("list_files", "read_file", "run_command"):
        assert f"→ {tool}" in result.stderr


def test_run_reports_a_rejected_key_clearly(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    env = boocode_env(tmp_path / "data", workspace, fake_model, BOOCODE_API_KEY="wrong")

    result = run_boocode("run", "hello", env=env)

    assert result.returncode == 1
    assert "401" in result.stderr and "BOOCODE_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "BOOCODE_API_KEY" in error


def test_run_reports_an_unreachable_endpoint_clearly(tmp_path: Path, workspace: Path) -> None:
    env = boocode_env(
        tmp_path / "data",
        workspace,
        BOOCODE_BASE_URL="http://127.0.0.1:9/v1",
        BOOCODE_API_KEY="k",
    )

    result = run_boocode("run", "hello", env=env)

    assert result.returncode == 1
    assert "Cannot reach" in result.stderr or "cannot reach" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_chat_is_a_clear_error(tmp_path: Path, workspace: Path) -> None:
    env = boocode_env(tmp_path / "data", workspace)

    result = run_boocode("run", "hi", "--chat", "nope", env=env)

    assert result.returncode == 1
    assert "chat nope does not exist" in result.stderr


def test_help_documents_every_command(tmp_path: Path, workspace: Path) -> None:
    result = run_boocode("--help", env=boocode_env(tmp_path / "data", workspace))

    for command in ("serve", "worker", "run", "db", "contracts"):
        assert command in result.stdout


@pytest.mark.parametrize("args", [["--help"], ["run", " "], ["serve", "--workspace", "/nowhere"]])
def test_help_and_refusals_load_none_of_the_heavy_libraries(
    tmp_path: Path, workspace: Path, args: list[str]
) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "boocode"), *args],
        env=boocode_env(tmp_path / "data", workspace, PYTHONPROFILEIMPORTTIME="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "boocode.cli" in imported
    assert not imported & HEAVY_LIBRARIES, sorted(imported & HEAVY_LIBRARIES)


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_an_empty_prompt_is_refused_in_one_line(
    tmp_path: Path, workspace: Path, prompt: str
) -> None:
    result = run_boocode("run", prompt, env=boocode_env(tmp_path / "data", workspace))

    assert result.returncode == 2
    assert result.stderr == "boocode run: the message is empty: say what the agent should do\n"
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("command", ["run", "serve", "worker"])
def test_a_missing_or_non_directory_workspace_is_refused_at_start(
    tmp_path: Path, workspace: Path, command: str
) -> None:
    env = boocode_env(tmp_path / "data", workspace)
    prompt = ["hello"] if command == "run" else []
    missing, a_file = tmp_path / "nowhere", workspace / "README.md"

    gone = run_boocode(command, *prompt, "--workspace", str(missing), env=env)
    not_a_dir = run_boocode(command, *prompt, env={**env, "BOOCODE_WORKSPACE": str(a_file)})

    assert (gone.returncode, not_a_dir.returncode) == (2, 2)
    assert gone.stderr == f"boocode {command}: the workspace {missing} does not exist\n"
    assert not_a_dir.stderr == f"boocode {command}: the workspace {a_file} is not a directory\n"


def test_an_invalid_setting_is_named_in_one_line(tmp_path: Path, workspace: Path) -> None:
    env = boocode_env(tmp_path / "data", workspace, BOOCODE_PORT="eighty")

    result = run_boocode("serve", env=env)

    assert result.returncode == 2
    assert result.stderr.startswith("boocode serve: invalid setting: BOOCODE_PORT: ")
    assert result.stderr.count("\n") == 1


def test_db_upgrade_migrates(tmp_path: Path, workspace: Path) -> None:
    result = run_boocode("db", "upgrade", env=boocode_env(tmp_path / "data", workspace))

    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert query_sqlite(tmp_path / "data", "SELECT version_num FROM alembic_version")


def test_a_turn_stops_after_the_configured_tool_iterations(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    fake_model.responder = lambda request: Reply.tool_calls([("list_files", {})])
    env = boocode_env(tmp_path / "data", workspace, fake_model, BOOCODE_MAX_TOOL_ITERATIONS="2")

    result = run_boocode("run", "loop forever", env=env)

    assert result.returncode == 1
    assert "stopped after 2 tool iterations" in result.stderr
    roles = query_sqlite(tmp_path / "data", "SELECT role FROM messages ORDER BY id")
    # Every tool call the model made was answered, so the chat can continue.
    assert [r for (r,) in roles] == ["user"] + ["assistant", "tool"] * 3
    refused = query_sqlite(tmp_path / "data", "SELECT content FROM messages ORDER BY id DESC")
    assert "tool-iteration limit" in refused[0][0]
    assert len(fake_model.requests) == 3


@pytest.mark.parametrize("command", [["run", "hello"], ["db", "upgrade"]])
def test_a_data_dir_that_is_a_file_is_refused_at_start(
    tmp_path: Path, workspace: Path, command: list[str]
) -> None:
    a_file = workspace / "README.md"

    result = run_boocode(*command, env=boocode_env(a_file, workspace))

    assert result.returncode == 2
    assert (
        result.stderr == f"boocode {command[0]}: the data directory {a_file} is not a directory\n"
    )


def test_notes_arriving_while_an_answer_streams_wait_for_its_line_to_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A subagent reports while the parent's answer streams: the answer stays whole on stdout."""
    from datetime import UTC, datetime

    from boocode.contracts.chats import MessageOut
    from boocode.contracts.frames import ErrorFrame, MessageDeltaFrame, MessageFrame
    from boocode.runner import _TextPrinter

    printer = _TextPrinter()
    printer.show(MessageDeltaFrame(chat_id="c", turn=1, text="Three "))
    printer.show(ErrorFrame(chat_id="c", turn=2, message="helper b failed"))
    assert capsys.readouterr() == ("Three ", "")
    printer.show(MessageDeltaFrame(chat_id="c", turn=1, text="helpers are on it."))
    answer = MessageOut(
        id=1,
        turn=1,
        role="assistant",
        content="Three helpers are on it.",
        created_at=datetime.now(UTC),
    )
    printer.show(MessageFrame(chat_id="c", message=answer))
    assert capsys.readouterr() == ("helpers are on it.\n", "error: helper b failed\n")
    printer.show(ErrorFrame(chat_id="c", turn=2, message="helper c failed"))
    assert capsys.readouterr() == ("", "error: helper c failed\n")
