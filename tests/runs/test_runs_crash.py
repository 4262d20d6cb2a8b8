"""Runs as crashes meet them: SIGKILL mid-command, cancel while nothing runs, two processes."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from boocode.config import redact_url
from boocode.tools.result import CANCELLED_AFTER_A_CRASH
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env
from support.postgres import fresh_database
from support.processes import (
    boocode_env,
    query_database,
    query_sqlite,
    run_boocode,
    spawn_boocode,
    wait_for,
)

# Appends "start <pid>", sleeps, appends "end <pid>": two copies at once would interleave.
SLOW_APPEND = (
    "import os, time, pathlib; p = pathlib.Path('runs.log');"
    " f = p.open('a'); f.write(f'start {os.getpid()}\\n'); f.flush();"
    " time.sleep(SECONDS); f.write(f'end {os.getpid()}\\n'); f.close()"
)


def _statuses(env: dict[str, str]) -> list[tuple[str, ...]]:
    return query_database(env, "SELECT status FROM agent_runs ORDER BY created_at")


def _stop(process: object) -> None:
    process.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
    process.wait(timeout=30)  # type: ignore[attr-defined]


def _runs(pid: int) -> bool:
    """Whether `pid` is a live process (not gone, not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize(
    ("engine", "cancel_while_down"),
    [("sqlite", False), ("sqlite", True), ("postgresql", True)],
    ids=["restart", "cancel while down", "cancel while down on postgresql"],
)
def test_a_command_left_running_by_a_crash_is_killed_before_its_step_runs_again(
    tmp_path: Path,
    workspace: Path,
    fake_model: FakeModelServer,
    engine: str,
    cancel_while_down: bool,
) -> None:
    argv = ["python3", "-c", SLOW_APPEND.replace("SECONDS", "10")]
    fake_model.script([Reply.tool_calls([("run_command", {"argv": argv})]), Reply.text("Done.")])
    env = boocode_env(tmp_path / "data", workspace, fake_model, BOOCODE_SANDBOX_MODE="off")
    with contextlib.ExitStack() as stack:
        if engine == "postgresql":
            env["BOOCODE_DATABASE_URL"] = stack.enter_context(fresh_database())
        _crash_mid_command(env, workspace, fake_model, cancel_while_down=cancel_while_down)


def _crash_mid_command(
    env: dict[str, str], workspace: Path, fake_model: FakeModelServer, *, cancel_while_down: bool
) -> None:
    first = spawn_boocode("run", "append slowly", env=env)
    log = workspace / "runs.log"
    wait_for(lambda: log.exists() and "start" in log.read_text(), timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    orphan_pid = int(log.read_text().split()[1])
    if cancel_while_down:
        (chat_id,) = query_database(env, "SELECT id FROM chats")[0]
        assert run_boocode("cancel", chat_id, env=env).returncode == 0

    worker = spawn_boocode("worker", env=env)
    final = "cancelled" if cancel_while_down else "succeeded"
    try:
        wait_for(lambda: _statuses(env) == [(final,)], timeout=60)
    finally:
        _stop(worker)

    result = _tool_result(env)
    lines = log.read_text().splitlines()
    assert lines[0] == f"start {orphan_pid}"
    if cancel_while_down:
        # Killed before the refusal, long before it could finish, and not run again.
        assert not _runs(orphan_pid) and lines == [f"start {orphan_pid}"]
        assert result == CANCELLED_AFTER_A_CRASH
        assert len(fake_model.requests) == 1
    else:
        # The orphan was killed before it could finish; the re-run ran alone, start to end.
        assert f"end {orphan_pid}" not in lines
        assert len(lines) == 3 and lines[1].startswith("start ") and lines[2].startswith("end ")
        assert lines[1].split()[1] == lines[2].split()[1] != str(orphan_pid)
        assert "interrupted when its process stopped; it was killed" in result
    assert query_database(env, "SELECT COUNT(*) FROM running_commands") == [(0,)]


def _tool_result(env: dict[str, str]) -> str:
    """The one tool result of the chat (JSON text in SQLite; psycopg decodes it)."""
    ((content,),) = query_database(env, "SELECT content FROM messages WHERE role = 'tool'")
    return str(content if env.get("BOOCODE_DATABASE_URL") else json.loads(content))


def test_cancel_while_no_process_runs_the_turn_then_restart(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    data = tmp_path / "data"
    fake_model.script(
        [
            Reply.tool_calls(
                [
                    ("run_command", {"argv": ["python3", "-c", "print('one')"]}),
                    ("run_command", {"argv": ["python3", "-c", "print('two')"]}),
                ],
                delay_s=30,  # the process dies while it waits for this reply
            ),
        ]
    )
    env = boocode_env(data, workspace, fake_model)
    first = spawn_boocode("run", "work", env=env)
    wait_for(lambda: len(fake_model.requests) >= 1, timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    (chat_id,) = query_sqlite(data, "SELECT id FROM chats")[0]

    cancelled = run_boocode("cancel", chat_id, env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "will stop at its next step" in cancelled.stdout

    fake_model.script([Reply.text("Answered after the cancel.")])
    worker = spawn_boocode("worker", env=env)
    try:
        wait_for(lambda: _statuses(env) == [("cancelled",)], timeout=60)
    finally:
        _stop(worker)
    assert len(fake_model.requests) == 1  # the cancelled turn asked the model nothing more

    again = run_boocode("run", "and now?", "--chat", chat_id, env=env)
    assert again.returncode == 0, again.stderr
    assert _statuses(env) == [("cancelled",), ("succeeded",)]
    roles = [row[0] for row in query_sqlite(data, "SELECT role FROM messages ORDER BY id")]
    assert roles == ["user", "user", "assistant"]


def test_cancel_with_no_running_turn_says_so(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    env = boocode_env(tmp_path / "data", workspace, fake_model)
    assert run_boocode("run", "hi", env=env).returncode == 0
    (chat_id,) = query_sqlite(tmp_path / "data", "SELECT id FROM chats")[0]
    result = run_boocode("cancel", chat_id, env=env)
    assert result.returncode == 1 and "has no running turn" in result.stderr


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_run_beside_a_live_server_never_touches_its_turns(
    tmp_path: Path, fake_model_server: FakeModelServer, engine: str
) -> None:
    fake_model_server.reset()
    with contextlib.ExitStack() as stack:
        env = fake_model_env(fake_model_server)
        if engine == "postgresql":
            env["BOOCODE_DATABASE_URL"] = stack.enter_context(fresh_database())
        server = LiveServer.start(tmp_path / "server", env=env)
        stack.callback(server.stop)
        stack.callback(fake_model_server.reset)
        _run_beside(server, fake_model_server, sqlite=engine == "sqlite")


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


def test_a_queued_run_whose_start_was_lost_is_started_by_the_next_process(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    data = tmp_path / "data"
    env = boocode_env(data, workspace, fake_model)
    assert run_boocode("db", "upgrade", env=env).returncode == 0
    # What a crash between storing a turn and starting its workflow leaves behind.
    conn = sqlite3.connect(data / "boocode.sqlite")
    with conn:
        conn.execute(
            "INSERT INTO chats (id, title, created_at, updated_at, workspace, model, branch_id,"
            " last_seq) VALUES ('c1', 't', '2026-01-01', '2026-01-01', ?, 'fake-model', 0, 0)",
            (str(workspace),),
        )
        conn.execute(
            "INSERT INTO messages (chat_id, branch_id, turn_number, role, content, is_error,"
            " created_at) VALUES ('c1', 0, 1, 'user', '\"hello\"', 0, '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO agent_runs (id, kind, chat_id, turn_number, branch_id, status,"
            " cancel_requested, executor_id, created_at) VALUES ('turn-lost', 'turn', 'c1', 1,"
            " 0, 'queued', 0, 'serve-0', '2026-01-01')"  # stored by a server that died since
        )
    conn.close()
    fake_model.script([Reply.text("Picked up.")])
    worker = spawn_boocode("worker", env=env)
    try:
        wait_for(lambda: _statuses(env) == [("succeeded",)], timeout=60)
    finally:
        _stop(worker)
    assert query_sqlite(data, "SELECT content FROM messages WHERE role = 'assistant'") == [
        ('"Picked up."',)
    ]


def test_the_database_refuses_an_unknown_status_and_a_second_active_turn(
    tmp_path: Path, workspace: Path
) -> None:
    data = tmp_path / "data"
    assert run_boocode("db", "upgrade", env=boocode_env(data, workspace)).returncode == 0
    conn = sqlite3.connect(data / "boocode.sqlite")
    conn.execute(
        "INSERT INTO chats (id, title, created_at, updated_at, workspace, model, branch_id,"
        " last_seq) VALUES ('c1', 't', '2026-01-01', '2026-01-01', '/w', 'demo', 0, 0)"
    )
    insert = (
        "INSERT INTO agent_runs (id, kind, chat_id, turn_number, branch_id, status,"
        " cancel_requested, created_at) VALUES (?, 'turn', 'c1', 1, 0, ?, 0, '2026-01-01')"
    )
    for run_id, status, problem in [("a", "paused", "CHECK"), ("b", "running", None)]:
        try:
            conn.execute(insert, (run_id, status))
        except sqlite3.IntegrityError as exc:
            assert problem and problem in str(exc)
        else:
            assert problem is None
    try:
        conn.execute(insert, ("c", "queued"))
        raise AssertionError("a second active turn was accepted")
    except sqlite3.IntegrityError as exc:
        assert "UNIQUE" in str(exc)
    conn.close()


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
