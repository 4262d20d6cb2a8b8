"""Background subagents at scale: how fast spawn_subagent returns, and 100 subagents at once.

A real `boocode serve` (SQLite unless `--database-url`) talks to the test suite's fake model,
which answers every request at once: a parent turn asks for N `spawn_subagent` calls in one
reply, then answers; each subagent answers its prompt in one model call. Figures:

- spawn: the `spawn_subagent` tool call's own latency (its trace), alone and 100 at once;
- one subagent alone: spawn → its end (the per-run overhead, no queueing);
- N at once with concurrency C (`BOOCODE_SUBAGENT_CONCURRENCY`, per chat too): total time from
  the first spawn to the last end, against the ideal N x per-run overhead / C, as a ratio; and
  the queue latency, spawn → the subagent's first model call, median and p99.

    python bench/bench_subagents.py [--count 100] [--concurrency 16] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env


def _first_user(messages: list[dict[str, Any]]) -> str:
    content = next(m["content"] for m in messages if m["role"] == "user")
    return content if isinstance(content, str) else ""


def _respond(body: dict[str, Any]) -> Reply:
    messages = body["messages"]
    first, last = _first_user(messages), messages[-1]
    if first.startswith("job "):
        return Reply.text(f"done {first}")
    if last["role"] == "user" and last["content"] == first and first.startswith("spawn "):
        count = int(first.split()[1])
        return Reply.tool_calls(
            [("spawn_subagent", {"prompt": f"job {n}", "label": f"j{n}"}) for n in range(count)]
        )
    return Reply.text("ok")


def _time(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _run(http: httpx.Client, count: int, timeout: float = 600) -> dict[str, Any]:
    """One parent turn spawning `count` subagents; returns them once all ended, with traces."""
    chat = http.post("/api/chats").json()["id"]
    http.post(f"/api/chats/{chat}/messages", json={"content": f"spawn {count}"}).raise_for_status()
    deadline = time.monotonic() + timeout
    while True:
        subagents = http.get(f"/api/chats/{chat}/subagents").json()["subagents"]
        if len(subagents) == count and all(s["answer"] is not None for s in subagents):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(subagents)} subagents ended in {timeout:.0f} s")
        time.sleep(0.5)  # polling is load on the server too
    spawns = http.get(
        f"/api/chats/{chat}/traces", params={"tool_name": "spawn_subagent", "limit": 500}
    ).json()["items"]
    first_calls = []
    for subagent in subagents:
        traces = http.get(f"/api/chats/{subagent['conversation_id']}/traces").json()["items"]
        first_call = min(_time(t["started_at"]) for t in traces if t["kind"] == "llm")
        first_calls.append(first_call - _time(subagent["created_at"]))
    messages = http.get(f"/api/chats/{chat}/messages").json()
    return {
        "parent_turns": max(m["turn"] for m in messages),
        "subagents": subagents,
        "spawn_ms": [t["latency_ms"] for t in spawns],
        "queue_s": first_calls,
        "total_s": max(_time(s["finished_at"]) for s in subagents)
        - min(_time(s["created_at"]) for s in subagents),
        "each_s": [_time(s["finished_at"]) - _time(s["created_at"]) for s in subagents],
    }


def _cpu(server: LiveServer) -> float:
    """CPU seconds the server process has used so far, all its threads."""
    times = psutil.Process(server.process.pid).cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer(record=False) as fake:
        fake.responder = _respond
        env = {
            **fake_model_env(fake),
            "BOOCODE_SUBAGENT_CONCURRENCY": str(args.concurrency),
            "BOOCODE_SUBAGENT_CHAT_CONCURRENCY": str(args.concurrency),
        }
        if args.database_url:
            env["BOOCODE_DATABASE_URL"] = args.database_url
        server = LiveServer.start(Path(tmp), env=env)
        try:
            with httpx.Client(base_url=server.url, headers=server.headers(), timeout=60) as http:
                _run(http, 1)  # warm up: queue worker threads, model client, caches
                singles = [_run(http, 1) for _ in range(5)]
                before = _cpu(server)
                many = _run(http, args.count)
                many["cpu_s"] = _cpu(server) - before
        finally:
            server.stop()
    per_run = statistics.median(single["each_s"][0] for single in singles)
    alone_spawn = [single["spawn_ms"][0] for single in singles]
    ideal = args.count * per_run / args.concurrency
    spawn = many["spawn_ms"]
    queue = many["queue_s"]
    print(f"subagents: {args.count} at once, concurrency {args.concurrency}, instant model")
    print(
        f"spawn_subagent latency, one spawn: median {statistics.median(alone_spawn):.1f} ms "
        f"(5 calls); 100 spawns in one reply, run at once: median "
        f"{statistics.median(spawn):.1f} ms, p99 {_percentile(spawn, 0.99):.1f} ms"
    )
    print(f"one subagent alone, spawn to end: median {per_run * 1000:.0f} ms (5 runs)")
    print(
        f"{args.count} subagents: all ended in {many['total_s']:.2f} s; ideal "
        f"{args.count} x {per_run * 1000:.0f} ms / {args.concurrency} = {ideal:.2f} s; "
        f"ratio {many['total_s'] / ideal:.2f}x"
    )
    cpu_each = many["cpu_s"] / args.count * 1000
    print(
        f"server CPU (the bound on 2 cores): {many['cpu_s']:.1f} s in all, {cpu_each:.0f} ms "
        f"per subagent; the parent was woken {many['parent_turns'] - 1} times"
    )
    queue_alone = [single["queue_s"][0] for single in singles]
    print(
        f"queue latency of one subagent alone: median "
        f"{statistics.median(queue_alone) * 1000:.0f} ms (5 runs)"
    )
    print(
        f"queue latency, spawn to first model call: median {statistics.median(queue) * 1000:.0f}"
        f" ms, p99 {_percentile(queue, 0.99) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
