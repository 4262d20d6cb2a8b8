"""Run one bench script against two git revisions, interleaved, and print them side by side.

    python bench/compare_revisions.py BASE [HEAD] [--script bench/bench_turn_overhead.py]

Each revision is checked out into a temporary worktree and its own copy of the script runs with
that revision's `src` first on the path, alternating A B A B so machine load hits both alike.
Figures are the numbers on each `label: value ms` line; the table gives each one's median.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FIGURE = re.compile(r"^\s*(?P<label>[^:]+):\s*(?P<value>[\d.]+) ms")


def _figures(output: str) -> dict[str, float]:
    found = {}
    for line in output.splitlines():
        if match := _FIGURE.match(line):
            found[match["label"].strip()] = float(match["value"])
    return found


def _run(tree: Path, script: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run(
        [sys.executable, str(tree / script)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return _figures(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("head", nargs="?", default="HEAD")
    parser.add_argument("--script", default="bench/bench_turn_overhead.py")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for name, rev in (("base", args.base), ("head", args.head)):
            trees[name] = Path(tmp) / name
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(trees[name]), rev],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        try:
            runs: dict[str, list[dict[str, float]]] = {"base": [], "head": []}
            for _ in range(args.rounds):
                for name, tree in trees.items():
                    runs[name].append(_run(tree, args.script))
        finally:
            for tree in trees.values():
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    print(f"{args.script}: {args.base} vs {args.head}, median of {args.rounds} interleaved runs")
    print(f"| figure | {args.base} | {args.head} | ratio |")
    print("| --- | --- | --- | --- |")
    for label in runs["base"][0]:
        base = statistics.median(run[label] for run in runs["base"])
        head = statistics.median(run[label] for run in runs["head"] if label in run)
        print(f"| {label} | {base:.2f} ms | {head:.2f} ms | {head / base:.2f} |")


if __name__ == "__main__":
    main()
