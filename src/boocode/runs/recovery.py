"""Runs put right after crashes: records reconciled with DBOS, dead executors' runs resumed.

DBOS's workflow status is the truth about whether a run is still going. At start-up every
active record is compared with it: a record whose workflow ended takes the workflow's final
status; a record whose workflow never started is started now if it is an orphan (the process
that stored it, and was to start it, died in between), and left to that process while it
lives. While the process lives, runs that DBOS holds as pending on an executor no live process
holds (`boocode.runs.executor`) are resumed here, and this process's own runs whose workflow
ended while their record did not (their last step kept failing) are ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from dbos import DBOS, WorkflowStatus, WorkflowStatusString

from boocode.contracts.runs import RunStatus
from boocode.db.engine import Database
from boocode.db.tables import AgentRun
from boocode.runs import store
from boocode.runs.executor import ExecutorLease
from boocode.runs.status import INTERNAL_ERROR, InvalidTransition

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 10.0

# DBOS's final workflow statuses, as run statuses (None: the status the workflow returned).
_FINAL: dict[str, RunStatus | None] = {
    WorkflowStatusString.SUCCESS.value: None,
    WorkflowStatusString.ERROR.value: RunStatus.FAILED,
    WorkflowStatusString.CANCELLED.value: RunStatus.CANCELLED,
    # DBOS gave up resuming it: every attempt stopped its process.
    WorkflowStatusString.MAX_RECOVERY_ATTEMPTS_EXCEEDED.value: RunStatus.FAILED,
}

StartRun = Callable[[AgentRun], Awaitable[None]]
# Ends an active run with a final status and error: answers its tool calls, announces it.
EndRun = Callable[[AgentRun, RunStatus, str | None], Awaitable[None]]
LiveElsewhere = Callable[[str], bool]


async def reconcile(
    db: Database,
    start: StartRun,
    end: EndRun,
    live_elsewhere: LiveElsewhere,
    unheard: frozenset[str] = frozenset(),
) -> int:
    """Bring every active run record in line with its workflow; return how many changed.

    `live_elsewhere(executor_id)`: whether another live process holds that executor id; a run
    it stored and has not started yet is its own to start. `unheard` names queues no process
    of this deployment polls (a single SQLite server polls none): a run still waiting on one,
    queued by an earlier version, is resumed instead.
    """
    changed = 0
    for run in await store.active_runs(db):
        status = await DBOS.get_workflow_status_async(run.id)
        if status is None:
            owner = run.executor_id  # the process that stored it, to start it at once
            if owner is not None and await asyncio.to_thread(live_elsewhere, owner):
                continue  # it lives: the run is its own to start
            log.info("starting run %s, stored but never started", run.id)
            await start(run)
            changed += 1
            continue
        if status.status == "ENQUEUED" and status.queue_name in unheard:
            log.info("resuming run %s, queued where nothing dequeues", run.id)
            await DBOS.resume_workflow_async(run.id)
            changed += 1
            continue
        if status.status not in _FINAL:
            continue  # pending or enqueued: DBOS resumes it
        changed += await _settle(db, end, run, status)
    return changed


async def _settle(db: Database, end: EndRun, run: AgentRun, status: WorkflowStatus) -> int:
    """Give a run whose workflow ended its final status; 1 if it changed, else 0."""
    final = _FINAL[status.status] or _returned_status(status.output)
    error = None
    if final is RunStatus.FAILED:
        log.warning("run %s stopped: %s", run.id, status.error or status.status)
        error = INTERNAL_ERROR
    try:
        if RunStatus(run.status) is RunStatus.QUEUED and final is not RunStatus.FAILED:
            await store.transition(db, run.id, RunStatus.RUNNING)
        await end(run, final, error)
    except InvalidTransition:  # it ended meanwhile
        return 0
    return 1


async def settle_ended(db: Database, end: EndRun, executor_id: str) -> int:
    """End this executor's active runs whose workflow has ended; return how many."""
    runs = await store.active_runs(db)
    active = {run.id: run for run in runs if run.executor_id == executor_id}
    if not active:
        return 0
    ended = await DBOS.list_workflows_async(
        workflow_ids=list(active), status=list(_FINAL), load_input=False
    )
    changed = 0
    for status in ended:
        changed += await _settle(db, end, active[status.workflow_id], status)
    return changed


def _returned_status(output: object) -> RunStatus:
    try:
        return RunStatus(str(output))
    except ValueError:
        return RunStatus.FAILED


def dead_executors(lease: ExecutorLease, pending: list[str | None]) -> list[str]:
    """The executor ids among `pending` that no live process holds."""
    return sorted({executor for executor in pending if executor and not lease.is_alive(executor)})


async def resume_dead_executors(lease: ExecutorLease) -> list[str]:
    """Resume the pending runs of executors whose process died; return those executors."""
    pending = await DBOS.list_workflows_async(status="PENDING", load_input=False, load_output=False)
    dead = await asyncio.to_thread(dead_executors, lease, [wf.executor_id for wf in pending])
    if dead:
        log.warning("resuming the runs of stopped executor(s) %s", ", ".join(dead))
        await asyncio.to_thread(DBOS._recover_pending_workflows, dead)
    return dead


async def sweep_forever(
    db: Database, lease: ExecutorLease, end: EndRun, interval_s: float = SWEEP_INTERVAL_S
) -> None:
    """Every `interval_s`, resume what dead executors left pending, and end this process's
    runs whose workflow ended before their record did."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await resume_dead_executors(lease)
        except Exception:
            log.exception("could not look for runs of stopped executors")
        try:
            await settle_ended(db, end, lease.executor_id)
        except Exception:
            log.exception("could not end the runs whose workflow ended")
