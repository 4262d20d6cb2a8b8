"""Start-up recovery: a call whose process died is marked `interrupted`, never left running.

It runs before DBOS launches. DBOS then resumes this executor's pending runs, and a resumed
run repeats its interrupted step as a new call with a trace of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime

from sqlalchemy import select, update

from boocode.config import Settings
from boocode.contracts.traces import ToolTraceFinishFrame, TraceOutcome
from boocode.db.tables import ToolTrace
from boocode.events.log import EventLog
from boocode.traces.view import trace_out

log = logging.getLogger(__name__)

INTERRUPTED_ERROR = "interrupted: the process running this call stopped before it finished"


async def mark_interrupted(events: EventLog, settings: Settings) -> int:
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
    dead = sessions - await _live_elsewhere(sessions, settings)
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


def executor_id(settings: Settings) -> str:
    """The DBOS executor this process runs as (DBOS's own default when none is set)."""
    return settings.executor_id or os.environ.get("DBOS__VMID") or "local"


async def _live_elsewhere(session_ids: set[str], settings: Settings) -> set[str]:
    """Runs DBOS holds as pending on another executor: their calls are still under way.

    A pending run of this executor is not live: this process is that executor, starting
    again, and DBOS is about to resume it.
    """
    from dbos import DBOSClient

    me = executor_id(settings)
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
        if status.status == "PENDING" and status.executor_id != me
    }
