"""A subagent as a DBOS workflow: the agent loop, its worktree and report made in the loop's
first and last steps.

A process that runs agent runs starts the subagents it creates at once; each waits for a slot
(`boocode.runs.admission`: a limit per process and one per parent chat) before its first step.
A process that does not (`serve --no-worker`) puts them on the queue `boocode_subagents`, with
the same limits, which the workers poll. The loop is the chat turn's (`boocode.agent.turn.drive`)
run on the subagent's own conversation, so its model and tool calls are durable steps and traced
the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID
from sqlalchemy import Connection

from boocode.agent import runtime
from boocode.agent import turn as turns
from boocode.agent.runtime import Runtime
from boocode.contracts.subagents import (
    Isolation,
    SubagentEvent,
    SubagentFrame,
    SubagentOut,
    SubagentResult,
    SubagentSpec,
)
from boocode.db.tables import AgentRun, Chat
from boocode.runs import store as runs
from boocode.runs.admission import Admission
from boocode.runs.detach import outside_any_run
from boocode.subagents import hooks, notify, worktree
from boocode.subagents import store as subagents

log = logging.getLogger(__name__)

SUBAGENT_QUEUE = "boocode_subagents"
SUBAGENT_ADMISSION = "subagent_admission"
# How often a worker looks for subagents and workflow agents queued by a process that does not
# run them. DBOS's 1 s default would dominate a short agent's start; each poll costs a few
# queries, so 50 ms made an idle SQLite process spend about 5 % of a core per queue.
AGENT_QUEUE_POLL_S = 0.2


@DBOS.workflow(name="boocode.subagent")
async def run_subagent(run_id: str, parent_chat_id: str | None = None) -> str:
    """Run a stored subagent to its end, then report to its parent chat."""
    rt = runtime.current()
    admission: Admission = rt.services[SUBAGENT_ADMISSION]
    outcome = await admission.run_unless_cancelled(
        lambda: turns.drive(run_id, _SubagentSteps()), rt.cancels.event(run_id), parent_chat_id
    )
    return outcome.status.value


async def start_subagent(run_id: str, parent_chat_id: str) -> None:
    """Start a stored subagent here, or queue it in its parent chat's partition; idempotent.

    It always asks DBOS whether the run ran before (`turn.start_fresh`): a spawning step run
    again after a crash finds its subagent stored, perhaps already run in part."""
    rt = runtime.current()

    async def start() -> None:
        with SetWorkflowID(run_id):
            if rt.process_turns:
                await turns.start_fresh(run_id, run_subagent, parent_chat_id)
                return
            with SetEnqueueOptions(queue_partition_key=parent_chat_id):
                await rt.services[SUBAGENT_QUEUE].enqueue_async(
                    run_subagent, run_id, parent_chat_id
                )

    await outside_any_run(start)


async def register_queue(rt: Runtime) -> None:
    rt.services[SUBAGENT_ADMISSION] = Admission(
        rt.settings.subagent_concurrency, rt.settings.subagent_chat_concurrency
    )
    rt.services[SUBAGENT_QUEUE] = await DBOS.register_queue_async(
        SUBAGENT_QUEUE,
        global_concurrency=rt.settings.subagent_concurrency,
        partition_concurrency=rt.settings.subagent_chat_concurrency,
        polling_interval_sec=AGENT_QUEUE_POLL_S,
    )


class _SubagentSteps:
    """A subagent's part of its loop's first and last steps (`turn.RunSteps`)."""

    async def prepare(self, run: AgentRun) -> str | None:
        """Create the worktree if one was asked for; the error that stops the subagent."""
        spec = SubagentSpec.model_validate(run.spec)
        if spec.isolation is Isolation.WORKTREE and not run.cancel_requested:
            try:
                await worktree.create(_plan(spec))
            except worktree.WorktreeError as exc:
                return str(exc)
        return None

    async def started(self, run_id: str) -> None:
        """Tell the parent chat, and run the start hooks."""
        rt = runtime.current()
        out = await _announce(rt, run_id, "started")
        workspace = await _parent_workspace(rt, out)
        await hooks.run_hooks(rt.settings, workspace, "subagent_start", out)

    def ended_in(self, conn: Connection, run: AgentRun, answer: str | None) -> None:
        """A subagent that answered, with no worktree to report, has its result: stored with
        its end."""
        spec = SubagentSpec.model_validate(run.spec)
        if answer is not None and not (spec.isolation is Isolation.WORKTREE and spec.worktree):
            runs.store_result_in(conn, run, SubagentResult(answer=answer).model_dump(mode="json"))

    async def finish(self, run_id: str, end: turns.RunEnd | None) -> None:
        """Store the result (answer, worktree report) unless its end did, tell the parent
        chat, run the stop hooks, and wake the parent if it is idle."""
        rt = runtime.current()
        run = end.run if end is not None else await runs.get(rt.db, run_id)
        if run.result is None:
            await subagents.store_result(rt.db, run_id, await _result(rt, run))
        out = await _announce(rt, run_id, "ended")
        workspace = await _parent_workspace(rt, out)
        await hooks.run_hooks(rt.settings, workspace, "subagent_stop", out)
        await notify.wake_if_due(rt, out.chat_id)


async def _result(rt: Runtime, run: AgentRun) -> SubagentResult:
    """Its answer (the last thing its model said) and its worktree's report."""
    spec = SubagentSpec.model_validate(run.spec)
    result = SubagentResult(answer=await subagents.final_answer(rt.db, run.chat_id))
    if spec.isolation is Isolation.WORKTREE and spec.worktree:
        try:
            result.worktree = await worktree.finish(_plan(spec))
        except worktree.WorktreeError as exc:
            log.warning("subagent %s: %s", run.id, exc)
            result.answer += f"\n\n[the worktree could not be reported: {exc}]"
    return result


async def _announce(rt: Runtime, run_id: str, event: SubagentEvent) -> SubagentOut:
    run = await subagents.get(rt.db, run_id)
    progress = await subagents.progress(rt.db, [run])
    out = subagents.to_out(run, progress[run.chat_id])
    if run.parent_chat_id is not None:
        await rt.events.publish(
            SubagentFrame(chat_id=run.parent_chat_id, event=event, subagent=out)
        )
    return out


async def _parent_workspace(rt: Runtime, out: SubagentOut) -> Path:
    async with rt.db.session() as session:
        chat = await session.get(Chat, out.chat_id)
    return Path(chat.workspace) if chat is not None else rt.settings.workspace


def _plan(spec: SubagentSpec) -> worktree.WorktreePlan:
    return worktree.planned(spec.worktree, spec.branch, spec.base, spec.subdir)
