"""Start-up recovery: a call whose process died is marked `interrupted`, never left running.

It runs before DBOS launches. DBOS then resumes this executor's pending runs, and a resumed
run repeats its interrupted step as a new call with a trace of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import select, update

from boocode.config import Settings
from boocode.contracts.traces import ToolTraceFinishFrame, TraceOutcome
from boocode.db.tables import ToolTrace
from boocode.events.log import EventLog
from boocode.traces.view import trace_out

log = logging.getLogger(__name__)

INTERRUPTED_ERROR = "interrupted: the process running this call stopped before it finished"


# Given the run ids of unfinished calls, the ones no live process is running.
DeadRuns = Callable[[set[str]], Awaitable[set[str]]]


async def mark_interrupted(events: EventLog, dead_runs: DeadRuns) -> int:
    """Mark the unfinished calls of runs no live process is running; return how many."""
    db = events.db
    async with db.session() as session:
        sessions = set(
            (
                await session.execute(
                    select(ToolTrace.session_id).where(ToolTrace.finished_at.is_(None)).distinct()
                )
            ).scalars()
        )
    if not sessions:
        return 0
    dead = await dead_runs(sessions)
    if not dead:
        return 0
    async with db.session() as session, session.begin():
        rows = list(
            (
                await session.execute(
                    update(ToolTrace)
                    .where(ToolTrace.finished_at.is_(None), ToolTrace.session_id.in_(dead))
                    .values(
                        finished_at=datetime.now(UTC),
                        outcome=TraceOutcome.INTERRUPTED.value,
                        error=INTERRUPTED_ERROR,
                    )
                    .returning(ToolTrace)
                )
            ).scalars()
        )
    for row in rows:
        await events.publish(ToolTraceFinishFrame(chat_id=row.chat_id, trace=trace_out(row)))
    log.info("marked %d unfinished call(s) interrupted", len(rows))
    return len(rows)


def not_live_elsewhere(settings: Settings, is_live: Callable[[str], bool]) -> DeadRuns:
    """At start-up: runs are dead unless DBOS holds them pending on another live executor.

    A pending run of this process's own executor is not live: this process is that executor,
    starting again, and DBOS is about to resume it.
    """

    async def dead(session_ids: set[str]) -> set[str]:
        return session_ids - await _live_elsewhere(session_ids, settings, is_live)

    return dead


async def _live_elsewhere(
    session_ids: set[str], settings: Settings, is_live: Callable[[str], bool]
) -> set[str]:
    from dbos import DBOSClient

    try:
        client = DBOSClient(
            system_database_url=settings.dbos_system_database_url,
            application_name="boocode",
            retry_connection_errors=False,
        )
    except Exception:  # no DBOS system database yet: no run can be pending
        log.debug("no DBOS system database to ask about pending runs", exc_info=True)
        return set()
    try:
        statuses = await client.list_workflows_async(
            workflow_ids=sorted(session_ids), load_input=False, load_output=False
        )
    except Exception:
        log.warning("could not read DBOS run states; treating runs as stopped", exc_info=True)
        return set()
    finally:
        await asyncio.to_thread(client.destroy)
    return {
        status.workflow_id
        for status in statuses
        if status.status == "PENDING" and status.executor_id and is_live(status.executor_id)
    }
