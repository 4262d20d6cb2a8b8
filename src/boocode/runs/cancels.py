"""Cancel requests as this process sees them: one event per run, kept fresh by one poller.

The request itself is durable (`agent_runs.cancel_requested`, see `boocode.runs.store`). A
step reads only the in-memory event: a request made in this process sets it at once, and one
query every `POLL_S` — for all the runs this process is running, not one query per run — sets
it for a request made elsewhere (another server, a worker, `boocode cancel`). At start-up the
flags of every active run are loaded before any run resumes, so a cancel made while the
process was down is seen by the first step.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from boocode.db.engine import Database
from boocode.db.tables import AgentRun
from boocode.runs.status import ACTIVE

log = logging.getLogger(__name__)

POLL_S = 0.5


class CancelWatch:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._events: dict[str, asyncio.Event] = {}

    def event(self, run_id: str) -> asyncio.Event:
        """The event set when `run_id` is asked to stop; watched until `forget`."""
        return self._events.setdefault(run_id, asyncio.Event())

    def forget(self, run_id: str) -> None:
        self._events.pop(run_id, None)

    async def load_requested(self) -> None:
        """Set the events of every active run whose cancel was requested (at start-up)."""
        async with self._db.session() as session:
            rows = await session.execute(
                select(AgentRun.id).where(
                    AgentRun.cancel_requested.is_(True),
                    AgentRun.status.in_([status.value for status in ACTIVE]),
                )
            )
            for (run_id,) in rows:
                self.event(run_id).set()

    async def refresh(self) -> None:
        """One query for the watched runs that are not yet cancelled."""
        waiting = [run_id for run_id, event in self._events.items() if not event.is_set()]
        if not waiting:
            return
        query = select(AgentRun.id).where(
            AgentRun.id.in_(waiting), AgentRun.cancel_requested.is_(True)
        )
        for run_id in await self._db.read(lambda session: session.scalars(query).all()):
            self.event(run_id).set()

    async def poll_forever(self, interval_s: float = POLL_S) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.refresh()
            except Exception:
                log.exception("could not read cancel requests")
