"""Run `boocode` as a real process, with its own data dir, workspace and model."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support.fake_model import FakeModelServer

BOOCODE = [sys.executable, "-m", "boocode.cli"]
_SECRET_VARS = ("BOOCODE_API_KEY", "BOOCODE_BASE_URL", "DEEPSEEK_API_KEY", "BOOCODE_MODEL")


def boocode_env(
    data_dir: Path,
    workspace: Path,
    fake_model: FakeModelServer | None = None,
    **extra: str,
) -> dict[str, str]:
    """An environment for a child `boocode`: the fake model if given, else the demo model."""
    env = {key: value for key, value in os.environ.items() if key not in _SECRET_VARS}
    env.update(
        BOOCODE_DATA_DIR=str(data_dir),
        BOOCODE_WORKSPACE=str(workspace),
        BOOCODE_DEMO_DELAY_S="0",
        PYTHONUNBUFFERED="1",
    )
    if fake_model is not None:
        env.update(BOOCODE_BASE_URL=fake_model.base_url, BOOCODE_API_KEY=fake_model.api_key)
    env.update(extra)
    return env


def run_boocode(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BOOCODE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def spawn_boocode(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BOOCODE, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def query_sqlite(data_dir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the child's SQLite database directly (it runs in WAL mode, so reads do not block).
    Before the child has made it there is nothing to read: connecting would leave an empty
    file, which BooCode refuses as a database cut short."""
    path = data_dir / "boocode.sqlite"
    if not path.exists():
        raise sqlite3.OperationalError(f"{path} does not exist yet")
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def query_database(env: dict[str, str], sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the database of the child `boocode` that `env` configures: its PostgreSQL
    database if it names one, else its SQLite file. Parameters are `?`."""
    url = env.get("BOOCODE_DATABASE_URL")
    if not url:
        return query_sqlite(Path(env["BOOCODE_DATA_DIR"]), sql, *params)
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql.replace("?", "%s"), params).fetchall()  # type: ignore[arg-type]


def execute_database(env: dict[str, str], sql: str, *params: Any) -> None:
    """Change the database of the child `boocode` that `env` configures behind its back (what
    a crash leaves, a fault), in one commit. Parameters are `?`."""
    url = env.get("BOOCODE_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
        return
    path = Path(env["BOOCODE_DATA_DIR"]) / "boocode.sqlite"
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn, conn:
        conn.execute(sql, params)


def wait_for(predicate: Any, *, timeout: float = 30, interval: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy and return its value, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except sqlite3.OperationalError:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


def processes_with(marker: str) -> list[int]:
    """Live (not zombie) processes on this host whose command line contains `marker`.

    Sandboxed commands live in their own PID namespace; this looks from outside it.
    """
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "cmdline").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found
