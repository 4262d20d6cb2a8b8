"""Start and stop the engine beneath every transport: storage, event bus, DBOS, the runtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from dbos import DBOS, DBOSConfig

from boocode.agent import runtime, turn
from boocode.agent.runtime import Runtime
from boocode.agent.turn import TURN_QUEUE
from boocode.config import Settings
from boocode.db.preflight import open_database
from boocode.events.bus import EventBus, LocalBus
from boocode.events.log import EventLog
from boocode.runs import executor, recovery
from boocode.runs.executor import ExecutorLease
from boocode.sessions import hooks as session_hooks
from boocode.traces import install_tracing
from boocode.traces.recovery import not_live_elsewhere

log = logging.getLogger(__name__)


async def start(
    settings: Settings,
    *,
    role: str,
    process_turns: bool = True,
    lease: ExecutorLease | None = None,
) -> Runtime:
    """Claim an executor id, open storage, launch DBOS (which resumes this executor's runs).

    `role` is `serve`, `worker` or `run`: each process takes a slot of its role
    (`boocode.runs.executor`). Storage faults raise `StorageError` before anything runs.
    """
    if lease is None:
        lease = await asyncio.to_thread(executor.claim, settings, role)
    try:
        db = await open_database(settings)
    except BaseException:
        lease.release()
        raise
    bus = _bus(settings)
    await bus.start()
    rt = Runtime(
        settings=settings,
        db=db,
        bus=bus,
        events=EventLog(db, bus),
        process_turns=process_turns,
        executor_id=lease.executor_id,
    )
    rt.services["executor_lease"] = lease
    runtime.install(rt)
    session_hooks.install(rt)

    def live_elsewhere(executor_id: str) -> bool:
        return executor_id != me.executor_id and me.is_alive(executor_id)

    me = lease
    # Before DBOS resumes runs: see traces/recovery.py.
    await install_tracing(rt, not_live_elsewhere(settings, live_elsewhere))
    _launch_dbos(settings, lease.executor_id, process_turns=process_turns)
    await DBOS.register_queue_async(TURN_QUEUE, polling_interval_sec=0.05)
    await recovery.reconcile(db, turn.start_turn)
    if process_turns:
        await recovery.resume_dead_executors(lease)
        rt.services["executor_sweep"] = asyncio.create_task(
            recovery.sweep_forever(lease, settings.executor_sweep_s)
        )
    return rt


async def stop(rt: Runtime) -> None:
    sweep = rt.services.pop("executor_sweep", None)
    if sweep is not None:
        sweep.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweep
    DBOS.destroy(destroy_registry=False)
    await rt.close()
    await rt.bus.stop()
    await rt.db.dispose()
    rt.services["executor_lease"].release()
    runtime.install(None)


def _bus(settings: Settings) -> EventBus:
    if settings.is_postgres:
        from boocode.events.pg_bus import PostgresBus

        return PostgresBus(settings.resolved_database_url)
    return LocalBus()


def _launch_dbos(settings: Settings, executor_id: str, *, process_turns: bool) -> None:
    if not settings.is_postgres:
        _use_wal(settings.data_dir / "dbos.sqlite")
    config: DBOSConfig = {
        "name": "boocode",
        "system_database_url": settings.dbos_system_database_url,
        "log_level": "WARNING",
        # Without LISTEN/NOTIFY (SQLite) DBOS polls for results; 1 s would dominate short turns.
        "notification_listener_polling_interval_sec": 0.05,
        "executor_id": executor_id,
    }
    DBOS(config=config)
    if not process_turns:
        DBOS.listen_queues([])  # an API-only process leaves turns to workers
    DBOS.launch()


def _use_wal(path: Path) -> None:
    """WAL persists in the file: DBOS's own SQLite then commits without blocking readers."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
