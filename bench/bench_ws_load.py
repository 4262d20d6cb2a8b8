"""WebSocket fan-out: how many clients watching one chat get every frame, and how fast.

A `boocode serve` process on loopback (SQLite, the scripted fake model streaming one word per
frame) runs one turn per step while N WebSocket clients watch the chat: 10, 50, 100, 200, 500,
1000 — until a client misses a frame or the last frame reaches the last client more than
DRAIN_LIMIT_S after it was published. Latency is from the moment a frame is stored in the event
log (its `created_at`, just before the bus publishes it) to its arrival at a client.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from websockets.exceptions import ConnectionClosed

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

STEPS = [10, 50, 100, 200, 500, 1000, 2000, 5000]
LATENCY_AT = 100
WORDS = 120
# One word per chunk, a little slower than the 40 ms delta batching: one frame per word.
CHUNK_DELAY_S = 0.045
DRAIN_LIMIT_S = 5.0
CONNECT_CONCURRENCY = 50
HEADER = "clients  all frames  frames    median       p99    drain"
HEADER = f"{'clients':>8} {'all frames':>11} {'frames':>7} {'median':>9} {'p99':>9} {'drain':>8}"


class Watcher:
    """One client: the seq and arrival time of every frame after the snapshot."""

    def __init__(self) -> None:
        self.snapshot_seq = -1
        self.arrivals: list[tuple[int, float]] = []
        self.ready = asyncio.Event()
        self.done = asyncio.Event()
        self.failure: str | None = None

    async def watch(self, server: LiveServer, chat_id: str, gate: asyncio.Semaphore) -> None:
        try:
            async with gate:
                ws = await server.ws(chat_id)
            async with ws:
                snapshot = json.loads(await ws.recv())
                self.snapshot_seq = snapshot["seq"]
                self.ready.set()
                async for raw in ws:
                    now = time.time()
                    frame = json.loads(raw)
                    self.arrivals.append((frame["seq"], now))
                    if frame["type"] == "turn_end":
                        self.done.set()
                        return
        except (OSError, TimeoutError, ConnectionClosed) as exc:
            self.failure = repr(exc)
        finally:
            self.ready.set()  # a client that failed counts as incomplete, not as a hang

    def complete(self, last_seq: int) -> bool:
        return [seq for seq, _ in self.arrivals] == list(range(self.snapshot_seq + 1, last_seq + 1))


def published_at(server: LiveServer, chat_id: str) -> dict[int, float]:
    with sqlite3.connect(server.data_dir / "boocode.sqlite") as db:
        rows = db.execute("SELECT seq, created_at FROM events WHERE chat_id = ?", (chat_id,))
        return {seq: _epoch(created) for seq, created in rows}


def _epoch(stamp: str) -> float:
    moment = datetime.fromisoformat(stamp)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def run_step(server: LiveServer, fake: FakeModelServer, clients: int) -> dict[str, float]:
    fake.script([Reply.text(" ".join(f"w{i}" for i in range(WORDS)), chunk_delay_s=CHUNK_DELAY_S)])
    chat_id = server.new_chat()["id"]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    watchers = [Watcher() for _ in range(clients)]
    tasks = [asyncio.create_task(w.watch(server, chat_id, gate)) for w in watchers]
    await asyncio.wait_for(asyncio.gather(*(w.ready.wait() for w in watchers)), 120)
    async with server.async_client() as http:
        started = time.time()
        await http.post(f"/api/chats/{chat_id}/messages", json={"content": "stream"})
    timeout = WORDS * CHUNK_DELAY_S + 30
    finished, _ = await asyncio.wait(tasks, timeout=timeout)
    for task in tasks:
        task.cancel()
    published = published_at(server, chat_id)
    last_seq = max(published)
    complete = sum(1 for w in watchers if w.done.is_set() and w.complete(last_seq))
    latencies = [
        arrival - published[seq]
        for w in watchers
        for seq, arrival in w.arrivals
        if seq in published
    ]
    failures = sorted({w.failure for w in watchers if w.failure})
    if failures:
        print(f"  {sum(1 for w in watchers if w.failure)} clients failed: {failures[:3]}")
    last_arrival = max((t for w in watchers for _, t in w.arrivals), default=started)
    latencies.sort()
    return {
        "clients": clients,
        "complete": complete,
        "frames": last_seq - max(w.snapshot_seq for w in watchers),
        "median_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "drain_s": last_arrival - published[last_seq],
        "unfinished": len(tasks) - len(finished),
    }


async def main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as fake:
        server = LiveServer.start(
            Path(tmp),
            env={
                "BOOCODE_BASE_URL": fake.base_url,
                "BOOCODE_API_KEY": fake.api_key,
                "BOOCODE_MODEL": "fake-model",
            },
        )
        try:
            print(HEADER)
            served = 0
            at_reference: dict[str, float] | None = None
            for clients in STEPS:
                result = await run_step(server, fake, clients)
                ok = result["complete"] == clients and result["drain_s"] <= DRAIN_LIMIT_S
                print(
                    f"{clients:>8} {int(result['complete']):>5}/{clients:<5} "
                    f"{int(result['frames']):>7} {result['median_ms']:>7.1f}ms "
                    f"{result['p99_ms']:>7.1f}ms {result['drain_s']:>7.2f}s"
                )
                if clients == LATENCY_AT:
                    at_reference = result
                if not ok:
                    break
                served = clients
        finally:
            server.stop()
    print(f"\nclients served with every frame delivered: {served} (of steps {STEPS})")
    if at_reference:
        print(
            f"frame latency at {LATENCY_AT} clients: median {at_reference['median_ms']:.1f} ms, "
            f"p99 {at_reference['p99_ms']:.1f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
