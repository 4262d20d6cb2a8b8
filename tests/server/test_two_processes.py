"""A turn run by a `boocode worker` reaches a WebSocket client of `boocode serve --no-worker`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from support.live_server import DEMO_DELAY_S, LiveServer, frames_until, next_frame, turn_ended

pytestmark = pytest.mark.slow


@pytest.fixture
def serve_and_worker(postgres_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    shared = {"BOOCODE_DATABASE_URL": postgres_url, "BOOCODE_DEMO_DELAY_S": DEMO_DELAY_S}
    api = LiveServer.start(
        tmp_path / "serve",
        args=["--no-worker"],
        env={**shared, "BOOCODE_EXECUTOR_ID": "serve-1"},
    )
    worker = LiveServer.start(
        tmp_path / "worker",
        command="worker",
        args=["--executor-id", "worker-1"],
        env=shared,
        wait=False,
    )
    try:
        deadline = time.monotonic() + 40
        while "running turns from" not in worker.log:
            assert worker.process.poll() is None, worker.log
            assert time.monotonic() < deadline, worker.log
            time.sleep(0.1)
        yield api, worker
    finally:
        worker.stop()
        api.stop()


async def test_frames_of_a_turn_run_by_the_worker_reach_the_serve_process(
    serve_and_worker: tuple[LiveServer, LiveServer], postgres_url: str
) -> None:
    api, _worker = serve_and_worker
    assert "API only" in api.log
    chat = api.new_chat()
    async with api.ws(chat["id"]) as ws, api.async_client() as http:
        snapshot = await next_frame(ws)
        accepted = await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "hi"})
        assert accepted.status_code == 202
        frames = await frames_until(ws, turn_ended, timeout=60)

    assert [f["seq"] for f in frames] == list(range(snapshot["seq"] + 1, frames[-1]["seq"] + 1))
    assert frames[-1]["status"] == "succeeded"
    kinds = {f["type"] for f in frames}
    assert {"turn_start", "message_delta", "reasoning_delta", "message"} <= kinds
    answer = [f for f in frames if f["type"] == "message"][-1]["message"]
    assert "offline demo model" in answer["content"]
    with psycopg.connect(postgres_url) as db:
        (executor,) = db.execute(
            "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = %s",
            (accepted.json()["task_id"],),
        ).fetchone()
    assert executor == "worker-1"
