"""Workflow runs: start latency, orchestration overhead per agent, and a full-cache re-run.

A real `boocode serve` (SQLite unless `--database-url`) and the fake model answering at once.
Figures:

- run start: POST → the run's first agent stored (it has reached the queue), median of 5;
- a chain of agents one after another: the orchestration per agent beyond its own run, from the
  server's timestamps (its record stored -> its run started, and its run ended -> the next
  agent stored), median and p90;
- N agents in one run (`parallel`, the run's concurrency): wall time, and the orchestration
  overhead per agent beyond the agent run itself: (run wall time - N x one agent's own time /
  concurrency) / N, and the server's CPU per agent;
- the same run again with `resume_from`: every agent from the cache, wall time.

    python bench/bench_workflows.py [--agents 1000] [--rerun-agents 100] [--database-url URL]
"""

from __future__ import annotations

import argparse
import itertools
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


def _script(count: int) -> str:
    return (
        "export const meta = {name: 'fan', description: 'n agents at once'}\n"
        f"const items = Array.from({{length: {count}}}, (_, i) => i)\n"
        "return (await parallel(items.map((i) => () => agent(`item ${i}`)))).length\n"
    )


def _sequential(count: int) -> str:
    return (
        "export const meta = {name: 'chain', description: 'n agents one after another'}\n"
        f"for (let i = 0; i < {count}; i++) await agent(`step ${{i}}`)\n"
    )


def _overheads(agents: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """Per agent of a chain: stored → running, and its end → the next one stored."""
    chain = sorted(agents, key=lambda a: _time(a["created_at"]))
    pairs = list(itertools.pairwise(chain))
    starts = [_time(a["started_at"]) - _time(a["created_at"]) for a, _ in pairs]
    handoffs = [_time(b["created_at"]) - _time(a["finished_at"]) for a, b in pairs]
    return starts, handoffs


def _answer(body: dict[str, Any]) -> Reply:
    return Reply.text("ok")


def _time(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _cpu(server: LiveServer) -> float:
    times = psutil.Process(server.process.pid).cpu_times()
    return float(times.user + times.system)


def _run(
    http: httpx.Client,
    chat: str,
    count: int,
    resume_from: str | None = None,
    script: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"script": script or _script(count)}
    if resume_from:
        body["resume_from"] = resume_from
    started = time.perf_counter()
    response = http.post(f"/api/chats/{chat}/workflows", json=body)
    response.raise_for_status()
    run_id = response.json()["run_id"]
    first_agent = None
    while first_agent is None:
        run = http.get(f"/api/workflow-runs/{run_id}").json()
        if run["agents"] or run["status"] in ("succeeded", "failed", "cancelled"):
            first_agent = time.perf_counter() - started
        time.sleep(0.02)
    # The run's list entry, not its detail (every agent with its tokens), while it goes.
    while run["status"] not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.5)
        listed = http.get(f"/api/chats/{chat}/workflows").json()["runs"]
        run = next(item for item in listed if item["run_id"] == run_id)
    run = http.get(f"/api/workflow-runs/{run_id}").json()
    if run["status"] != "succeeded":
        raise SystemExit(f"the run ended {run['status']}: {run['error']}")
    wall = _time(run["finished_at"]) - _time(run["created_at"])
    return {"run": run, "wall_s": wall, "start_s": first_agent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rerun-agents", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chain", type=int, default=100, help="agents one after another")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer(record=False) as fake:
        fake.responder = _answer
        env = {
            **fake_model_env(fake),
            "BOOCODE_WORKFLOW_CONCURRENCY": str(args.concurrency),
            "BOOCODE_WORKFLOW_AGENT_CONCURRENCY": str(args.concurrency),
        }
        if args.database_url:
            env["BOOCODE_DATABASE_URL"] = args.database_url
        server = LiveServer.start(Path(tmp), env=env)
        try:
            with httpx.Client(base_url=server.url, headers=server.headers(), timeout=120) as http:
                chat = http.post("/api/chats").json()["id"]
                _run(http, chat, 1)  # warm up
                singles = [_run(http, chat, 1) for _ in range(5)]
                chain = _run(http, chat, args.chain, script=_sequential(args.chain))
                before = _cpu(server)
                many = _run(http, chat, args.agents)
                cpu = _cpu(server) - before
                base = _run(http, chat, args.rerun_agents)
                rerun = _run(http, chat, args.rerun_agents, resume_from=base["run"]["run_id"])
        finally:
            server.stop()
    one_agent = statistics.median(
        _time(s["run"]["agents"][0]["finished_at"]) - _time(s["run"]["agents"][0]["created_at"])
        for s in singles
    )
    start = statistics.median(s["start_s"] for s in singles)
    ideal = args.agents * one_agent / args.concurrency
    overhead = (many["wall_s"] - ideal) / args.agents
    cached = sum(a["cached"] for a in rerun["run"]["agents"])
    starts, handoffs = _overheads(chain["run"]["agents"])
    overheads = [start + handoff for start, handoff in zip(starts, handoffs, strict=True)]
    own = [_time(a["finished_at"]) - _time(a["started_at"]) for a in chain["run"]["agents"]]
    print(f"workflow runs, instant model, concurrency {args.concurrency}")
    print(f"run start, POST -> first agent stored: median {start * 1000:.0f} ms (5 runs)")
    print(f"one agent's own time (its run, queued to ended): median {one_agent * 1000:.0f} ms")
    print(
        f"{args.chain} agents one after another: orchestration per agent beyond its own run "
        f"(stored -> running, and its end -> the next one stored): median "
        f"{statistics.median(overheads) * 1000:.1f} ms, p90 "
        f"{statistics.quantiles(overheads, n=10)[-1] * 1000:.1f} ms (stored -> running "
        f"{statistics.median(starts) * 1000:.1f} ms, end -> next stored "
        f"{statistics.median(handoffs) * 1000:.1f} ms); the agent's own run: "
        f"median {statistics.median(own) * 1000:.1f} ms"
    )
    print(
        f"{args.agents} agents in one run: {many['wall_s']:.1f} s; ideal {ideal:.1f} s; "
        f"overhead {overhead * 1000:.1f} ms per agent; server CPU {cpu / args.agents * 1000:.0f} "
        "ms per agent"
    )
    print(
        f"re-run of a {args.rerun_agents}-agent run, all from the cache ({cached} cached): "
        f"{rerun['wall_s']:.2f} s (the first run: {base['wall_s']:.2f} s)"
    )


if __name__ == "__main__":
    main()
