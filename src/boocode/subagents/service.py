"""Subagents as the transports (API, CLI) see them: list, detail with transcript, cancel."""

from __future__ import annotations

from boocode.agent import turn as turns
from boocode.agent.history import load_messages, to_message_out
from boocode.agent.runtime import Runtime
from boocode.contracts.runs import RunStatus
from boocode.contracts.subagents import (
    SubagentCancelResult,
    SubagentDetail,
    SubagentList,
)
from boocode.runs.status import ACTIVE
from boocode.subagents import store as subagents


async def list_of_chat(rt: Runtime, chat_id: str) -> SubagentList:
    runs = await subagents.of_chat(rt.db, chat_id)
    progress = await subagents.progress(rt.db, runs)
    return SubagentList(subagents=[subagents.to_out(run, progress[run.chat_id]) for run in runs])


async def detail(rt: Runtime, task_id: str) -> SubagentDetail:
    run = await subagents.get(rt.db, task_id)
    progress = await subagents.progress(rt.db, [run])
    out = subagents.to_out(run, progress[run.chat_id])
    transcript = [to_message_out(row) for row in await load_messages(rt.db, run.chat_id)]
    return SubagentDetail(**out.model_dump(), transcript=transcript)


async def cancel(rt: Runtime, task_id: str) -> SubagentCancelResult:
    run = await subagents.get(rt.db, task_id)
    cancelled = await turns.request_cancel(run.id)
    return SubagentCancelResult(task_id=run.id, cancelled=cancelled)


async def cancel_all(rt: Runtime, chat_id: str) -> int:
    """Cancel every active subagent of a chat and of its subagents (on the user's request);
    returns how many were asked to stop."""
    active = await _active_below(rt, chat_id)
    for run_id in active:
        await turns.request_cancel(run_id)
    return len(active)


async def _active_below(rt: Runtime, chat_id: str) -> list[str]:
    found = []
    for run in await subagents.of_chat(rt.db, chat_id):
        if RunStatus(run.status) in ACTIVE:
            found.append(run.id)
        found += await _active_below(rt, run.chat_id)
    return found
