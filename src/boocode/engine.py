"""Start and stop the engine beneath every transport: storage, event bus, DBOS, the runtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from dbos import DBOS, DBOSConfig

from boocode import subagents
from boocode.agent import runtime, turn
from boocode.agent.runtime import Runtime
from boocode.agent.turn import TURN_QUEUE
from boocode.config import Settings
from boocode.contracts.runs import RunKind, RunStatus
from boocode.db import dbos_sqlite
from boocode.db.preflight import open_database
from boocode.db.tables import AgentRun
from boocode.events.bus import EventBus, LocalBus
from boocode.events.log import EventLog
from boocode.runs import executor, recovery
from boocode.runs import store as runs
from boocode.runs.executor import ExecutorLease
from boocode.sessions import hooks as session_hooks
from boocode.subagents import SUBAGENT_QUEUE
from boocode.traces import install_tracing
from boocode.traces.recovery import not_live_elsewhere
from boocode.workflows import engine as workflow_engine
from boocode.workflows import tools as workflow_tools
from boocode.workflows.engine import WORKFLOW_AGENT_QUEUE

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
    subagents.install(rt)
    workflow_tools.install(rt)

    def live_elsewhere(executor_id: str) -> bool:
        return executor_id != me.executor_id and me.is_alive(executor_id)

    me = lease
    # Before DBOS resumes runs: see traces/recovery.py.
    await install_tracing(rt, not_live_elsewhere(settings, live_elsewhere))
    await rt.cancels.load_requested()
    rt.services["cancel_poll"] = asyncio.create_task(rt.cancels.poll_forever())
    # A process that starts its own turns dequeues only where others may enqueue for it.
    listens = role == "worker" or (role == "serve" and process_turns and settings.is_postgres)
    # Agent runs a process creates start there; the queues carry those of processes that do not.
    queues = [TURN_QUEUE, SUBAGENT_QUEUE, WORKFLOW_AGENT_QUEUE] if listens else []
    _launch_dbos(settings, lease.executor_id, queues)
    await DBOS.register_queue_async(TURN_QUEUE, polling_interval_sec=0.05)
    await subagents.register_queue(rt)
    await workflow_engine.register_queue(rt)
    alone = process_turns and not listens and not settings.is_postgres
    unheard = frozenset({SUBAGENT_QUEUE, WORKFLOW_AGENT_QUEUE} if alone else ())
    await recovery.reconcile(db, _start_run, _end_run, live_elsewhere, unheard)
    if process_turns:
        await recovery.resume_dead_executors(lease)
        rt.services["executor_sweep"] = asyncio.create_task(
            recovery.sweep_forever(db, lease, _end_run, settings.executor_sweep_s)
        )
    return rt


async def stop(rt: Runtime) -> None:
    for name in ("executor_sweep", "cancel_poll"):
        if (task := rt.services.pop(name, None)) is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    DBOS.destroy(destroy_registry=False)
    if (spare := rt.services.pop(workflow_engine.SPARE_SCRIPT_PROCESS, None)) is not None:
        await spare.close()
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


async def _start_run(run: AgentRun) -> None:
    if run.kind == RunKind.SUBAGENT.value:
        await subagents.start_subagent(run.id, run.parent_chat_id or run.chat_id)
    elif run.kind == RunKind.WORKFLOW.value:
        await workflow_engine.start_workflow_run(run.id)
    elif run.kind == RunKind.WORKFLOW_AGENT.value:
        await workflow_engine.start_agent(run.id)
    else:
        await turn.start_turn(run.id)


async def _end_run(run: AgentRun, status: RunStatus, error: str | None) -> None:
    if run.kind == RunKind.WORKFLOW.value:  # a script, not an agent loop: no tool calls
        await runs.transition(runtime.current().db, run.id, status, error=error)
    else:
        await turn.end_run(run.id, status, error)


def _launch_dbos(settings: Settings, executor_id: str, queues: list[str]) -> None:
    if not settings.is_postgres:
        _use_wal(settings.data_dir / "dbos.sqlite")
    config: DBOSConfig = {
        "name": "boocode",
        "system_database_url": settings.dbos_system_database_url,
        "log_level": "WARNING",
        # Polls for DBOS messages and events, which BooCode does not use: waits for a run's
        # result pass their own interval. At 50 ms it was half an idle server's CPU.
        "notification_listener_polling_interval_sec": 1.0,
        "executor_id": executor_id,
    }
    if not settings.is_postgres:  # commits without an fsync: docs/decisions/0070
        config["db_engine_kwargs"] = dbos_sqlite.engine_kwargs()
    DBOS(config=config)
    DBOS.listen_queues(queues)  # DBOS's own internal queues (recovery) are still served
    DBOS.launch()
    if not settings.is_postgres:  # a statement on PostgreSQL is a round trip: threads keep it
        dbos_sqlite.run_bookkeeping_inline()


def _use_wal(path: Path) -> None:
    """WAL persists in the file: DBOS's own SQLite then commits without blocking readers."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
