"""Start-up cost of the command sandbox: `run_command` of `true`, sandboxed vs not.

Both ways run through the real runner (`run_argv`): path checks, the environment allow-list,
the subprocess, the output pipe, the kill of the process group. The runs alternate, so both
see the same machine load. Beside them, `bwrap ... true` started bare with `subprocess.run`:
what bubblewrap itself costs here. The workspace is a fresh git checkout, as most projects are.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from boocode.sandbox import Sandbox, SandboxMode, SandboxPolicy, probe
from boocode.sandbox.bwrap import bwrap_argv
from boocode.tools import PathGuard
from boocode.tools.run_command import run_argv

RUNS = 200
WARM_UP = 10
TARGET_MS = 20.0


async def _timed(argv: list[str], workspace: Path, guard: PathGuard, sandbox: Sandbox) -> float:
    started = time.perf_counter()
    result = await run_argv(argv, cwd=workspace, guard=guard, sandbox=sandbox)
    elapsed = (time.perf_counter() - started) * 1000
    assert result.exit_code == 0 and result.sandboxed == sandbox.confined, result
    return elapsed


def _bare_bwrap(bwrap: str, workspace: Path) -> float:
    argv = bwrap_argv(bwrap, ["true"], workspace=workspace, cwd=workspace, network=False)
    started = time.perf_counter()
    subprocess.run(argv, check=True, env={"PATH": "/usr/bin:/bin"})
    return (time.perf_counter() - started) * 1000


def _row(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9)]
    return f"| {name} | {statistics.median(samples):.1f} ms | {p90:.1f} ms |"


async def main() -> int:
    found = probe()
    if found.bwrap is None:
        print(f"skipped: bubblewrap cannot run here: {found.problem}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch).resolve()
        # A project is usually a git checkout: its `.git` is protected before every command.
        subprocess.run(["git", "init", "-q", str(workspace)], check=True)
        guard = PathGuard(workspace)
        unsandboxed = Sandbox.unsandboxed(workspace)
        sandboxed = Sandbox.open(SandboxPolicy(mode=SandboxMode.REQUIRED), workspace)
        plain: list[float] = []
        confined: list[float] = []
        bare: list[float] = []
        for index in range(WARM_UP + RUNS):
            times = (
                await _timed(["true"], workspace, guard, unsandboxed),
                await _timed(["true"], workspace, guard, sandboxed),
                _bare_bwrap(found.bwrap, workspace),
            )
            if index >= WARM_UP:
                plain.append(times[0])
                confined.append(times[1])
                bare.append(times[2])
    added = statistics.median(confined) - statistics.median(plain)
    ratio = statistics.median(confined) / statistics.median(plain)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{RUNS} runs of `true` each way, alternating; load average {load}\n")
    print("| run_command of `true` | median | p90 |\n| --- | --- | --- |")
    print(_row("unsandboxed", plain))
    print(_row("sandboxed (bubblewrap)", confined))
    print(_row("bare `bwrap ... true` (subprocess.run)", bare))
    verdict = "within" if added <= TARGET_MS else "OVER"
    print(
        f"\nsandbox start-up cost per command: {added:.1f} ms median "
        f"({verdict} the {TARGET_MS:.0f} ms target); sandboxed / unsandboxed: {ratio:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
