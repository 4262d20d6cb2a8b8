"""Start and stop the engine beneath every transport: storage, event bus, DBOS, the runtime."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

from dbos import DBOS, DBOSConfig

from boocode.agent import runtime
from boocode.agent.runtime import Runtime
from boocode.agent.turn import TURN_QUEUE
from boocode.config import Settings
from boocode.db import dbos_sqlite
from boocode.db.engine import Database
from boocode.events.bus import EventBus, LocalBus
from boocode.events.log import EventLog
from boocode.sessions import hooks as session_hooks
from boocode.traces import install_tracing

log = logging.getLogger(__name__)


async def start(settings: Settings, *, process_turns: bool = True) -> Runtime:
    """Migrate storage, open the event bus, launch DBOS (which resumes interrupted turns)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    await db.upgrade()
    bus = _bus(settings)
    await bus.start()
    rt = Runtime(
        settings=settings,
        db=db,
        bus=bus,
        events=EventLog(db, bus),
        process_turns=process_turns,
    )
    runtime.install(rt)
    session_hooks.install(rt)
    await install_tracing(rt)  # before DBOS resumes runs: see traces/recovery.py
    _launch_dbos(settings, process_turns=process_turns)
    await DBOS.register_queue_async(TURN_QUEUE, polling_interval_sec=0.05)
    return rt


async def stop(rt: Runtime) -> None:
    DBOS.destroy(destroy_registry=False)
    await rt.close()
    await rt.bus.stop()
    await rt.db.dispose()
    runtime.install(None)


def _bus(settings: Settings) -> EventBus:
    if settings.is_postgres:
        from boocode.events.pg_bus import PostgresBus

        return PostgresBus(settings.resolved_database_url)
    return LocalBus()


def _launch_dbos(settings: Settings, *, process_turns: bool) -> None:
    if not settings.is_postgres:
        _use_wal(settings.data_dir / "dbos.sqlite")
    config: DBOSConfig = {
        "name": "boocode",
        "system_database_url": settings.dbos_system_database_url,
        "log_level": "WARNING",
        # Without LISTEN/NOTIFY (SQLite) DBOS polls for results; 1 s would dominate short turns.
        "notification_listener_polling_interval_sec": 0.05,
    }
    if not settings.is_postgres:  # commits without an fsync: docs/decisions/0070
        config["db_engine_kwargs"] = dbos_sqlite.engine_kwargs()
    if settings.executor_id:
        config["executor_id"] = settings.executor_id
    DBOS(config=config)
    if not process_turns:
        DBOS.listen_queues([])  # an API-only process leaves turns to workers
    DBOS.launch()


def _use_wal(path: Path) -> None:
    """WAL persists in the file: DBOS's own SQLite then commits without blocking readers."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
