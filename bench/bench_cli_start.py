"""How fast the command line answers: `boocode --help`, a refused `run`, and a demo `run`.

Each figure is the median wall time of real `boocode` processes (the console script of this
environment), plus the import cost of the modules each command loads, read from
`python -X importtime` (cumulative microseconds of the top-level import).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BOOCODE = str(Path(sys.executable).parent / "boocode")
RUNS = 9
DEMO_RUNS = 5
MODULES = ("boocode.cli", "boocode.config", "boocode.runner", "boocode.server.main")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp))
        help_s, _ = _median_wall([BOOCODE, "--help"], env)
        refused_s, refused_exit = _median_wall([BOOCODE, "run", ""], env)
        first_line_s, whole_s = _demo_run(env)
    print(f"boocode --help (median of {RUNS}): {help_s * 1000:.0f} ms")
    print(f'boocode run "" (median of {RUNS}): {refused_s * 1000:.0f} ms, exit {refused_exit}')
    print(
        f"boocode run on the demo model, first line (median of {DEMO_RUNS}): {first_line_s:.2f} s"
    )
    print(f"boocode run on the demo model, whole run (median of {DEMO_RUNS}): {whole_s:.2f} s")
    for module in MODULES:
        print(f"import {module}: {_import_ms(module):.0f} ms (cumulative, -X importtime)")


def _env(root: Path) -> dict[str, str]:
    workspace = root / "workspace"
    workspace.mkdir()
    (workspace / "README.md").write_text("# Bench project\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOOCODE_", "DEEPSEEK_"))}
    env.update(
        BOOCODE_DATA_DIR=str(root / "data"),
        BOOCODE_WORKSPACE=str(workspace),
        BOOCODE_DEMO_DELAY_S="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def _median_wall(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """The median wall time of `argv` and its exit status."""
    samples, status = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        status = subprocess.run(argv, env=env, capture_output=True, check=False).returncode
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), status


def _demo_run(env: dict[str, str]) -> tuple[float, float]:
    """Seconds to the first line on stderr (the chat id) and to the end of the process."""
    first, whole = [], []
    for _ in range(DEMO_RUNS):
        started = time.perf_counter()
        process = subprocess.Popen(
            [BOOCODE, "run", "what is here?"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert process.stderr is not None
        process.stderr.readline()
        first.append(time.perf_counter() - started)
        process.stderr.read()
        if process.wait() != 0:
            raise SystemExit(f"boocode run exited {process.returncode}")
        whole.append(time.perf_counter() - started)
    return statistics.median(first), statistics.median(whole)


def _import_ms(module: str) -> float:
    """The least of three cold imports: a busy machine only ever adds to the figure."""
    return min(_one_import_ms(module) for _ in range(3))


def _one_import_ms(module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(done.stderr.splitlines()):
        fields = [part.strip() for part in line.split("|")]
        if len(fields) == 3 and fields[2] == module:
            return int(fields[1]) / 1000
    raise SystemExit(f"no importtime line for {module}")


if __name__ == "__main__":
    main()
