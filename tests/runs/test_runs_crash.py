"""Runs as crashes meet them: SIGKILL mid-command and after one, cancel while nothing runs, two
processes; each on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from boocode.config import redact_url
from boocode.runs.commands import RERUN_NOTE
from boocode.tools.result import CANCELLED_AFTER_A_CRASH
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env
from support.postgres import fresh_database
from support.processes import (
    boocode_env,
    execute_database,
    query_database,
    run_boocode,
    spawn_boocode,
    wait_for,
)

# Appends "start <pid>", waits until the test creates `go` (a minute at most), appends
# "end <pid>": two copies at once would interleave, and one that should have been killed would
# still write its end.
APPEND_WHEN_TOLD = "\n".join(
    [
        "import os, pathlib, time",
        "log = pathlib.Path('runs.log').open('a')",
        "log.write(f'start {os.getpid()}\\n'); log.flush()",
        "for _ in range(1200):",
        "    if pathlib.Path('go').exists(): break",
        "    time.sleep(0.05)",
        "log.write(f'end {os.getpid()}\\n'); log.close()",
        "print('appended')",
    ]
)


@pytest.fixture
def append_env(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer, database_env: dict[str, str]
) -> dict[str, str]:
    """A child `boocode`'s environment, on each engine, whose model asks for one
    APPEND_WHEN_TOLD command and then says "Done."."""
    argv = ["python3", "-c", APPEND_WHEN_TOLD]
    fake_model.script([Reply.tool_calls([("run_command", {"argv": argv})]), Reply.text("Done.")])
    return boocode_env(
        tmp_path / "data", workspace, fake_model, BOOCODE_SANDBOX_MODE="off", **database_env
    )


def _statuses(env: dict[str, str]) -> list[tuple[str, ...]]:
    return query_database(env, "SELECT status FROM agent_runs ORDER BY created_at")


def _contents(env: dict[str, str], role: str) -> list[Any]:
    """The chat's messages of `role`, oldest first, their content decoded alike on both engines."""
    sql = "SELECT CAST(content AS TEXT) FROM messages WHERE role = ? ORDER BY id"
    return [json.loads(content) for (content,) in query_database(env, sql, role)]


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


@contextlib.contextmanager
def _worker(env: dict[str, str]) -> Iterator[None]:
    """A `boocode worker` for the block: it resumes what the killed process left."""
    worker = spawn_boocode("worker", env=env)
    try:
        yield
    finally:
        _stop(worker)


def _cancel_while_down(env: dict[str, str]) -> str:
    """`boocode cancel` on the only chat, with no process running its turn; its id."""
    (chat_id,) = query_database(env, "SELECT id FROM chats")[0]
    cancelled = run_boocode("cancel", chat_id, env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "will stop at its next step" in cancelled.stdout
    return str(chat_id)


def _runs(pid: int) -> bool:
    """Whether `pid` is a live process (not gone, not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _run_until_the_command_starts(env: dict[str, str], workspace: Path) -> subprocess.Popen[str]:
    """`boocode run` of the scripted turn, once its command has appended its start."""
    process = spawn_boocode("run", "append once", env=env)
    log = workspace / "runs.log"
    wait_for(lambda: log.exists() and "start" in log.read_text(), timeout=30)
    return process


def _sigkill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


@pytest.mark.parametrize("cancel_while_down", [False, True], ids=["restart", "cancel while down"])
def test_a_command_left_running_by_a_crash_is_killed_before_its_step_runs_again(
    append_env: dict[str, str],
    workspace: Path,
    fake_model: FakeModelServer,
    cancel_while_down: bool,
) -> None:
    env = append_env
    _sigkill(_run_until_the_command_starts(env, workspace))
    log = workspace / "runs.log"
    orphan_pid = int(log.read_text().split()[1])
    if cancel_while_down:
        _cancel_while_down(env)

    final = "cancelled" if cancel_while_down else "succeeded"
    with _worker(env):
        if not cancel_while_down:
            # The step runs the command again once the orphan is gone; let that run end.
            wait_for(lambda: log.read_text().count("start") == 2, timeout=60)
            (workspace / "go").touch()
        wait_for(lambda: _statuses(env) == [(final,)], timeout=60)

    (result,) = _contents(env, "tool")
    lines = log.read_text().splitlines()
    assert lines[0] == f"start {orphan_pid}" and not _runs(orphan_pid)
    if cancel_while_down:
        # Killed before the refusal, and not run again.
        assert lines == [f"start {orphan_pid}"]
        assert result == CANCELLED_AFTER_A_CRASH
        assert len(fake_model.requests) == 1
    else:
        # The orphan was killed before the re-run began (it never wrote its end, even once `go`
        # was there); the re-run ran alone, start to end.
        rerun_pid = lines[1].split()[1]
        assert lines[1:] == [f"start {rerun_pid}", f"end {rerun_pid}"]
        assert rerun_pid != str(orphan_pid)
        assert result.startswith(RERUN_NOTE) and result.endswith("appended\n")
    assert query_database(env, "SELECT COUNT(*) FROM running_commands") == [(0,)]


# Holds the INSERT of a tool result until the process is killed: on SQLite a statement that
# would run for hours (no lock can make a trigger wait), on PostgreSQL a sleep.
_HOLD_TOOL_RESULTS = {
    "sqlite": [
        "CREATE VIEW held AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        " WHERE i < 1000000000000) SELECT COUNT(*) FROM n",
        "CREATE TRIGGER hold_tool_results BEFORE INSERT ON messages WHEN NEW.role = 'tool'"
        " BEGIN SELECT * FROM held; END",
    ],
    "postgresql": [
        "CREATE FUNCTION held() RETURNS trigger LANGUAGE plpgsql"
        " AS 'BEGIN PERFORM pg_sleep(600); RETURN NEW; END'",
        "CREATE TRIGGER hold_tool_results BEFORE INSERT ON messages FOR EACH ROW"
        " WHEN (NEW.role = 'tool') EXECUTE FUNCTION held()",
    ],
}
_RELEASE_TOOL_RESULTS = {
    "sqlite": ["DROP TRIGGER hold_tool_results", "DROP VIEW held"],
    "postgresql": [
        # The killed process's sessions would sleep on; they end as its exit would end them.
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()",
        "DROP TRIGGER hold_tool_results ON messages",
        "DROP FUNCTION held()",
    ],
}


@contextlib.contextmanager
def _tool_results_held(env: dict[str, str], process: subprocess.Popen[str]) -> Iterator[None]:
    """For the block no tool result can be stored: its INSERT waits (a fault, not a mock). At
    the block's end `process` is SIGKILLed, then results can be stored again."""
    engine = "postgresql" if "BOOCODE_DATABASE_URL" in env else "sqlite"
    for statement in _HOLD_TOOL_RESULTS[engine]:
        execute_database(env, statement)
    try:
        yield
    finally:
        _sigkill(process)
        for statement in _RELEASE_TOOL_RESULTS[engine]:
            execute_database(env, statement)


@pytest.mark.parametrize("cancel_while_down", [False, True], ids=["restart", "cancel while down"])
def test_a_command_that_ended_before_its_step_was_recorded_gives_its_result_again(
    append_env: dict[str, str],
    workspace: Path,
    fake_model: FakeModelServer,
    cancel_while_down: bool,
) -> None:
    """Killed between a command's end and its step's record: the restarted step answers with
    the kept result and does not run the command again; a cancel made meanwhile stops the turn
    after that step, before the next model call."""
    env = append_env
    kept = "SELECT CAST(result AS TEXT) FROM running_commands WHERE result IS NOT NULL"
    with _tool_results_held(env, _run_until_the_command_starts(env, workspace)):
        (workspace / "go").touch()
        ((recorded,),) = wait_for(lambda: query_database(env, kept), timeout=30)
        assert _contents(env, "tool") == []  # the step's own answer was never stored
    chat_id = _cancel_while_down(env) if cancel_while_down else None

    with _worker(env):
        wait_for(lambda: _statuses(env) == [("cancelled" if chat_id else "succeeded",)], timeout=60)

    log = (workspace / "runs.log").read_text()
    pid = log.split()[1]
    assert log == f"start {pid}\nend {pid}\n"  # the command ran once
    kept_result = json.loads(recorded)["content"]
    assert "appended" in kept_result and _contents(env, "tool") == [kept_result]
    assert query_database(env, "SELECT COUNT(*) FROM running_commands") == [(0,)]
    if chat_id is None:
        assert _contents(env, "assistant")[-1] == "Done."
        assert len(fake_model.requests) == 2
        return
    assert len(fake_model.requests) == 1  # stopped before the next model call
    # The chat takes the next message.
    again = run_boocode("run", "and now?", "--chat", chat_id, env=env)
    assert again.returncode == 0, again.stderr
    assert _statuses(env) == [("cancelled",), ("succeeded",)]
    assert _contents(env, "assistant")[-1] == "Done."


@pytest.mark.parametrize("after_a_tool_step", [False, True], ids=["mid-stream", "between steps"])
def test_cancel_while_no_process_runs_the_turn_then_restart(
    tmp_path: Path,
    workspace: Path,
    fake_model: FakeModelServer,
    database_env: dict[str, str],
    after_a_tool_step: bool,
) -> None:
    """Killed while the model answers (the first call, or the one after a completed tool
    step), cancelled while down: the resumed turn asks the model nothing more."""
    calls = [
        ("run_command", {"argv": ["python3", "-c", "print('one')"]}),
        ("run_command", {"argv": ["python3", "-c", "print('two')"]}),
    ]
    # The process dies while it waits for the reply that is delayed.
    if after_a_tool_step:
        script = [Reply.tool_calls(calls[:1]), Reply.tool_calls(calls[1:], delay_s=30)]
    else:
        script = [Reply.tool_calls(calls, delay_s=30)]
    fake_model.script(script)
    env = boocode_env(tmp_path / "data", workspace, fake_model, **database_env)
    first = spawn_boocode("run", "work", env=env)
    wait_for(lambda: len(fake_model.requests) == len(script), timeout=30)
    _sigkill(first)
    chat_id = _cancel_while_down(env)

    fake_model.script([Reply.text("Answered after the cancel.")])
    with _worker(env):
        wait_for(lambda: _statuses(env) == [("cancelled",)], timeout=60)
    # The cancelled turn asked the model nothing more; the step that ran kept its result.
    assert len(fake_model.requests) == len(script)
    tool_results = [str(content) for content in _contents(env, "tool")]
    assert [result.endswith("\none\n") for result in tool_results] == (
        [True] if after_a_tool_step else []
    )

    again = run_boocode("run", "and now?", "--chat", chat_id, env=env)
    assert again.returncode == 0, again.stderr
    assert _statuses(env) == [("cancelled",), ("succeeded",)]
    assert _contents(env, "assistant")[-1] == "Answered after the cancel."


def test_cancel_with_no_running_turn_says_so(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    env = boocode_env(tmp_path / "data", workspace, fake_model)
    assert run_boocode("run", "hi", env=env).returncode == 0
    (chat_id,) = query_database(env, "SELECT id FROM chats")[0]
    result = run_boocode("cancel", chat_id, env=env)
    assert result.returncode == 1 and "has no running turn" in result.stderr


def test_run_beside_a_live_server_never_touches_its_turns(
    tmp_path: Path, fake_model: FakeModelServer, database_env: dict[str, str]
) -> None:
    server = LiveServer.start(
        tmp_path / "server", env={**fake_model_env(fake_model), **database_env}
    )
    try:
        _run_beside(server, fake_model, sqlite=not database_env)
    finally:
        server.stop()


def _run_beside(server: LiveServer, fake_model_server: FakeModelServer, *, sqlite: bool) -> None:
    fake_model_server.responder = lambda body: (
        Reply.text("server answer", delay_s=3)
        if "server question" in json.dumps(body)
        else Reply.text("cli answer")
    )
    chat_id = server.new_chat()["id"]
    with server.client() as http:
        accepted = http.post(f"/api/chats/{chat_id}/messages", json={"content": "server question"})
        assert accepted.status_code == 202
    running = "SELECT executor_id FROM agent_runs WHERE chat_id = ? AND status = 'running'"
    ((server_executor,),) = wait_for(lambda: server.query(running, chat_id))
    # A turn the server has stored and is about to start: in the window between the two.
    pending_chat = server.new_chat()["id"]
    server.execute(
        "INSERT INTO messages (chat_id, branch_id, turn_number, role, content, is_error,"
        " created_at) VALUES (?, 0, 1, 'user', '\"pending question\"', FALSE, '2026-01-01')",
        pending_chat,
    )
    server.execute(
        "INSERT INTO agent_runs (id, kind, chat_id, turn_number, branch_id, status,"
        " cancel_requested, executor_id, created_at) VALUES ('turn-pending', 'turn', ?, 1, 0,"
        " 'queued', FALSE, ?, '2026-01-01')",
        pending_chat,
        server_executor,
    )

    cli = run_boocode("run", "cli question", env=server.env, cwd=server.workspace)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == "cli answer"

    if sqlite:
        second = run_boocode("serve", env={**server.env, "BOOCODE_PORT": "1"}, timeout=30)
        assert second.returncode == 2
        assert "another boocode serve" in second.stderr and "is already using" in second.stderr
        assert "BooCode is running" not in second.stdout

    status = "SELECT status FROM agent_runs WHERE chat_id = ?"
    wait_for(lambda: server.query(status, chat_id) == [("succeeded",)], timeout=30)
    asked = [body for body in fake_model_server.requests if "server question" in str(body)]
    assert len(asked) == 1  # the CLI process did not re-run the server's live turn
    # Nor did it start the turn the live server had stored and not started yet.
    assert server.query(status, pending_chat) == [("queued",)]
    assert not any("pending question" in str(body) for body in fake_model_server.requests)


# What a crash between storing a turn and starting its workflow leaves: a chat, its first
# message and the queued run, stored by a server (serve-0) that died since.
_LOST_START = [
    "INSERT INTO chats (id, title, created_at, updated_at, workspace, model, branch_id,"
    " last_seq) VALUES ('c1', 't', '2026-01-01', '2026-01-01', ?, 'fake-model',"
    " 0, 0)",
    "INSERT INTO messages (chat_id, branch_id, turn_number, role, content, is_error,"
    " created_at) VALUES ('c1', 0, 1, 'user', '\"hello\"', FALSE, '2026-01-01')",
    "INSERT INTO agent_runs (id, kind, chat_id, turn_number, branch_id, status,"
    " cancel_requested, executor_id, created_at) VALUES ('turn-lost', 'turn', 'c1', 1, 0,"
    " 'queued', FALSE, 'serve-0', '2026-01-01')",
]


@pytest.mark.parametrize("cancel_first", [False, True], ids=["started", "cancelled before start"])
def test_a_queued_run_whose_start_was_lost_is_started_by_the_next_process(
    tmp_path: Path,
    workspace: Path,
    fake_model: FakeModelServer,
    database_env: dict[str, str],
    cancel_first: bool,
) -> None:
    """...or, cancelled before it started, ends cancelled there without asking the model."""
    env = boocode_env(tmp_path / "data", workspace, fake_model, **database_env)
    assert run_boocode("db", "upgrade", env=env).returncode == 0
    execute_database(env, _LOST_START[0], str(workspace))
    for statement in _LOST_START[1:]:
        execute_database(env, statement)
    if cancel_first:
        _cancel_while_down(env)
    fake_model.script([Reply.text("Picked up.")])
    with _worker(env):
        final = "cancelled" if cancel_first else "succeeded"
        wait_for(lambda: _statuses(env) == [(final,)], timeout=60)
    if not cancel_first:
        assert _contents(env, "assistant") == ["Picked up."]
        return
    assert _contents(env, "assistant") == [] and fake_model.requests == []
    # The chat takes the next message.
    again = run_boocode("run", "and now?", "--chat", "c1", env=env)
    assert again.returncode == 0, again.stderr
    assert _statuses(env) == [("cancelled",), ("succeeded",)]


def test_the_database_refuses_an_unknown_status_and_a_second_active_turn(
    tmp_path: Path, workspace: Path, database_env: dict[str, str]
) -> None:
    env = boocode_env(tmp_path / "data", workspace, **database_env)
    assert run_boocode("db", "upgrade", env=env).returncode == 0
    execute_database(env, _LOST_START[0], str(workspace))
    insert = (
        "INSERT INTO agent_runs (id, kind, chat_id, turn_number, branch_id, status,"
        " cancel_requested, created_at) VALUES (?, 'turn', 'c1', 1, 0, ?, FALSE, '2026-01-01')"
    )
    refused = (sqlite3.IntegrityError, psycopg.IntegrityError)
    with pytest.raises(refused, match=r"(?i)check constraint"):
        execute_database(env, insert, "a", "paused")
    execute_database(env, insert, "b", "running")
    with pytest.raises(refused, match=r"(?i)unique constraint"):
        execute_database(env, insert, "c", "queued")
    assert _statuses(env) == [("running",)]


def test_storage_faults_are_one_line_before_anything_runs(tmp_path: Path, workspace: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = boocode_env(data, workspace)
    database = data / "boocode.sqlite"

    database.write_bytes(b"these are not the bytes of a database" * 10)
    for command in (["serve", "--port", "1"], ["run", "hi"], ["db", "upgrade"]):
        result = run_boocode(*command, env=env)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.strip() == (
            f"boocode: {database} is not a SQLite database; point BOOCODE_DATABASE_URL "
            "(or BOOCODE_DATA_DIR) elsewhere, or move the file away"
        )
        assert "running" not in result.stdout and "Traceback" not in result.stderr

    database.write_bytes(b"")
    (data / "boocode.sqlite-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 60)
    result = run_boocode("run", "hi", env=env)
    assert result.returncode == 2
    assert "is empty but its write-ahead log boocode.sqlite-wal is not" in result.stderr
    assert database.stat().st_size == 0  # refused, never silently replaced

    unreachable = {**env, "BOOCODE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = run_boocode("db", "upgrade", env=unreachable)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "cannot open or migrate the database at postgresql" in result.stderr


@contextlib.contextmanager
def _unusable_postgresql(fault: str) -> Iterator[str]:
    if fault == "unreachable":
        yield "postgresql://nobody:hunter2@127.0.0.1:1/none"
    else:
        with fresh_database() as url:
            yield f"{url}_missing"


@pytest.mark.parametrize("fault", ["unreachable", "missing database"])
def test_an_unusable_postgresql_database_is_one_line_for_every_command(
    tmp_path: Path, workspace: Path, fault: str
) -> None:
    with _unusable_postgresql(fault) as url:
        env = boocode_env(tmp_path / "data", workspace, BOOCODE_DATABASE_URL=url)
        commands = (["serve", "--port", "0"], ["worker"], ["run", "hi"], ["db", "upgrade"])
        started = [spawn_boocode(*command, env=env) for command in commands]
        for command, process in zip(commands, started, strict=True):
            stdout, stderr = process.communicate(timeout=60)
            assert process.returncode == 2, (command, stderr)
            (line,) = stderr.strip().splitlines()
            assert line.startswith(
                f"boocode: cannot open or migrate the database at {redact_url(url)}: "
            )
            assert "hunter2" not in line and "running" not in stdout
            if fault == "missing database":
                assert "does not exist" in line
