"""DBOS's SQLite file commits at `synchronous=NORMAL` and loses no commit to a killed process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import create_engine, text

from boocode.db import dbos_sqlite


def test_every_dbos_connection_commits_at_normal(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'dbos.sqlite'}", **dbos_sqlite.engine_kwargs())
    with engine.connect() as first, engine.connect() as second:
        assert first.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert second.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    engine.dispose()


def test_a_commit_survives_the_process_killed_right_after_it(tmp_path: Path) -> None:
    path = tmp_path / "dbos.sqlite"
    writer = textwrap.dedent(
        f"""
        import os, signal
        from sqlalchemy import create_engine, text
        from boocode.db import dbos_sqlite
        engine = create_engine("sqlite:///{path}", **dbos_sqlite.engine_kwargs())
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE steps (id INTEGER PRIMARY KEY, output TEXT)"))
        for step in range(50):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO steps (output) VALUES (:o)"), {{"o": str(step)}})
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint
        """
    )
    killed = subprocess.run([sys.executable, "-c", writer], capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr

    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        outputs = conn.execute(text("SELECT output FROM steps ORDER BY id")).scalars().all()
    engine.dispose()
    assert outputs == [str(step) for step in range(50)]
