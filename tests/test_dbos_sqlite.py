"""DBOS's SQLite file commits at `synchronous=NORMAL`, loses no commit to a killed process, and
is written from the event loop's thread."""

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


def test_dbos_bookkeeping_runs_on_the_event_loop_thread_and_other_work_on_its_threads(
    tmp_path: Path,
) -> None:
    """With the installed DBOS: the executor is found; a workflow is started, and its steps
    looked up and recorded, on the loop's thread (and recorded: DBOS lists them), without a
    ping before each transaction; a plain to_thread call still gets a thread of its own."""
    script = textwrap.dedent(
        f"""
        import asyncio, threading
        from dbos import DBOS
        from boocode.db import dbos_sqlite

        DBOS(config={{"name": "inline", "system_database_url": "sqlite:///{tmp_path}/d.sqlite",
                     "db_engine_kwargs": dbos_sqlite.engine_kwargs()}})
        DBOS.launch()
        assert dbos_sqlite.run_bookkeeping_inline()
        from dbos import _dbos
        sys_db = _dbos._dbos_global_instance._sys_db
        threads = set()
        pings = []
        dialect = sys_db.engine.dialect
        ping = dialect.do_ping
        dialect.do_ping = lambda connection: pings.append(1) or ping(connection)
        for name in ("init_workflow", "check_operation_execution", "record_operation_result"):
            original = getattr(sys_db, name)
            def watched(*args, _original=original, **kwargs):
                threads.add(threading.current_thread().name)
                return _original(*args, **kwargs)
            setattr(sys_db, name, watched)

        @DBOS.step()
        async def double(x: int) -> int:
            return 2 * x

        @DBOS.workflow()
        async def flow(x: int) -> int:
            return await double(await double(x))

        async def main():
            handle = await DBOS.start_workflow_async(flow, 3)
            assert await handle.get_result() == 12
            steps = await DBOS.list_workflow_steps_async(handle.workflow_id)
            assert [step["output"] for step in steps] == [6, 12], steps
            elsewhere = await asyncio.to_thread(lambda: threading.current_thread().name)
            # A connection to the file is not pinged before each transaction.
            assert pings == [], f"{{len(pings)}} pings"
            print(sorted(threads), elsewhere)

        asyncio.run(main())
        DBOS.destroy()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    looked_up_on, elsewhere = done.stdout.decode().rsplit("] ", 1)
    assert looked_up_on == "['MainThread'"
    assert elsewhere.strip().startswith("dbos-executor-")
