"""A call cut short by a crash is marked `interrupted` at the next start, never left running."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from boocode.config import Settings
from boocode.contracts.traces import TraceKind, TraceOutcome
from boocode.events.log import EventLog
from boocode.traces.recovery import INTERRUPTED_ERROR, mark_interrupted, not_live_elsewhere
from boocode.traces.store import CallEnd, NewCall, TraceStore
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer
from support.processes import boocode_env, query_sqlite, spawn_boocode, wait_for

from .conftest import add_chat

# Waits for a `go` file: the first run is killed while waiting, the resumed one finds it.
WAIT_FOR_GO = "import pathlib, time\nwhile not pathlib.Path('go').exists(): time.sleep(0.05)"
TRACES = (
    "SELECT id, kind, tool_name, outcome, parent_id, step_key, finished_at, error"
    " FROM tool_traces ORDER BY id"
)


@pytest.mark.slow
def test_sigkill_mid_tool_call_leaves_that_call_interrupted_and_the_rest_intact(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    data = tmp_path / "data"
    fake_model.script(
        [
            Reply.tool_calls(
                [
                    ("read_file", {"path": "README.md"}),
                    ("run_command", {"argv": ["python3", "-c", WAIT_FOR_GO]}),
                ]
            ),
            Reply.text("Recovered."),
        ]
    )
    env = boocode_env(data, workspace, fake_model, BOOCODE_MODEL="fake-model")
    first = spawn_boocode("run", "read, then wait", env=env)
    running = "SELECT id FROM tool_traces WHERE tool_name = 'run_command' AND outcome = 'running'"
    try:
        wait_for(lambda: query_sqlite(data, running), timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    before = query_sqlite(data, TRACES)
    assert [(kind, name, outcome) for _, kind, name, outcome, *_ in before] == [
        ("llm", "fake-model", "ok"),
        ("tool", "read_file", "ok"),
        ("tool", "run_command", "running"),
    ]
    (workspace / "go").touch()

    worker = spawn_boocode("worker", env=env)
    try:
        wait_for(
            lambda: query_sqlite(data, "SELECT status FROM agent_runs") == [("succeeded",)],
            timeout=60,
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)

    after = query_sqlite(data, TRACES)
    assert after[:2] == before[:2], "the calls that finished before the crash are untouched"
    killed, resumed, last = after[2], after[3], after[4]
    assert killed[0] == before[2][0] and killed[3] == "interrupted"
    assert killed[6] is not None and killed[7] == INTERRUPTED_ERROR
    # The resumed run repeated the interrupted step as a new call under the same model call.
    assert resumed[1:4] == ("tool", "run_command", "ok") and resumed[5] == killed[5]
    assert resumed[4] == killed[4] == before[0][0]
    assert last[1:4] == ("llm", "fake-model", "ok") and len(after) == 5
    assert query_sqlite(data, "SELECT COUNT(*) FROM tool_traces WHERE finished_at IS NULL") == [
        (0,)
    ]

    # As the page reads it: the turn succeeded with no failed tool, the killed call a re-run.
    server = LiveServer.start(tmp_path, env={"BOOCODE_WORKSPACE": str(workspace)})
    try:
        with server.client() as http:
            (chat,) = http.get("/api/chats").json()["items"]
            timeline = http.get(f"/api/chats/{chat['id']}/timeline").json()
            traces = http.get(f"/api/chats/{chat['id']}/traces").json()["items"]
    finally:
        server.stop()
    (turn,) = timeline["turns"]
    assert (turn["status"], turn["tool_calls"], turn["tool_errors"]) == ("succeeded", 2, 0)
    assert sorted(t["outcome"] for t in traces) == ["interrupted", "ok", "ok", "ok", "ok"]


async def test_recovery_marks_only_unfinished_calls_and_announces_them(
    events: EventLog, tmp_path: Path
) -> None:
    chat_id = await add_chat(events.db)
    store = TraceStore(events.db, events)
    done = await store.start(NewCall(chat_id, "dead-run", 1, TraceKind.LLM, "m", None))
    await store.finish(done, CallEnd(TraceOutcome.OK, 5.0))
    stuck = await store.start(NewCall(chat_id, "dead-run", 1, TraceKind.TOOL, "grep", {}))
    frames = events.bus.subscribe(chat_id)

    settings = Settings(data_dir=tmp_path / "no-dbos-yet", database_url=events.db.url)
    assert await mark_interrupted(events, not_live_elsewhere(settings, _no_other_process)) >= 1

    from boocode.contracts.traces import TraceQuery
    from boocode.traces import query

    items = {t.id: t for t in (await query.list_traces(events.db, chat_id, TraceQuery())).items}
    assert items[done.id].outcome is TraceOutcome.OK
    assert items[stuck.id].outcome is TraceOutcome.INTERRUPTED
    assert items[stuck.id].finished_at is not None
    announced = frames.queue.get_nowait()
    assert announced.type == "tool_trace_finish" and announced.trace.id == stuck.id  # type: ignore[attr-defined]
    assert await mark_interrupted(events, not_live_elsewhere(settings, _no_other_process)) == 0


def _no_other_process(_executor_id: str) -> bool:
    return False
