"""On PostgreSQL, the run of a worker that dies is finished by another worker."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env, frames_until, turn_ended

pytestmark = pytest.mark.slow


def _worker(root: Path, env: dict[str, str]) -> LiveServer:
    worker = LiveServer.start(root, command="worker", env=env, wait=False)
    deadline = time.monotonic() + 40
    while "boocode worker" not in worker.log:
        assert worker.process.poll() is None, worker.log
        assert time.monotonic() < deadline, worker.log
        time.sleep(0.1)
    return worker


@pytest.fixture
def api_and_two_workers(
    postgres_url: str, tmp_path: Path, fake_model_server: FakeModelServer
) -> Iterator[tuple[LiveServer, list[LiveServer]]]:
    shared = {
        **fake_model_env(fake_model_server),
        "BOOCODE_DATABASE_URL": postgres_url,
        "BOOCODE_EXECUTOR_SWEEP_S": "0.5",
    }
    api = LiveServer.start(tmp_path / "serve", args=["--no-worker"], env=shared)
    workers = [
        _worker(tmp_path / f"worker{n}", {**shared, "BOOCODE_WORKSPACE": str(api.workspace)})
        for n in range(2)
    ]
    try:
        yield api, workers
    finally:
        for process in [*workers, api]:
            process.stop()


async def test_a_dead_workers_turn_is_finished_by_the_other_worker(
    api_and_two_workers: tuple[LiveServer, list[LiveServer]],
    postgres_url: str,
    fake_model: FakeModelServer,
) -> None:
    api, workers = api_and_two_workers
    fake_model.script(
        [
            Reply.tool_calls([("run_command", {"argv": ["python3", "-c", "print(6 * 7)"]})]),
            Reply.text("never delivered", delay_s=30),  # the worker dies while it waits
            Reply.text("Finished by the other worker."),
        ]
    )
    chat = api.new_chat()
    async with api.ws(chat["id"]) as ws, api.async_client() as http:
        accepted = await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "go"})
        assert accepted.status_code == 202
        run_id = accepted.json()["task_id"]
        deadline = time.monotonic() + 30
        while len(fake_model.requests) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with psycopg.connect(postgres_url) as db:
            (executor,) = db.execute(
                "SELECT executor_id FROM agent_runs WHERE id = %s", (run_id,)
            ).fetchone()
        dying = next(w for w in workers if f"worker {executor} " in w.log)
        dying.process.send_signal(signal.SIGKILL)
        dying.process.wait(timeout=10)
        frames = await frames_until(ws, turn_ended, timeout=60)

    assert frames[-1]["status"] == "succeeded"
    with psycopg.connect(postgres_url) as db:
        (finisher,) = db.execute(
            "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = %s", (run_id,)
        ).fetchone()
        tools = db.execute(
            "SELECT COUNT(*) FROM messages WHERE chat_id = %s AND role = 'tool'", (chat["id"],)
        ).fetchone()
    assert finisher != executor
    assert tools == (1,)  # the completed command did not run again
    assert len(fake_model.requests) == 3
