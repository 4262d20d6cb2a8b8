"""Workflow runs as the transports (API, CLI, the model's tool) use them."""

from __future__ import annotations

import uuid
from pathlib import Path

from boocode.agent import turn as turns
from boocode.agent.runtime import Runtime
from boocode.contracts.runs import RunStatus
from boocode.contracts.workflows import (
    WorkflowPhase,
    WorkflowRunDetail,
    WorkflowRunList,
    WorkflowSpec,
    WorkflowStart,
)
from boocode.db.tables import AgentRun, Chat
from boocode.runs.status import ACTIVE
from boocode.subagents.store import progress
from boocode.workflows import discovery, engine, store
from boocode.workflows.script import Script, ScriptError, load_script


class WorkflowRefused(ValueError):
    """A workflow that cannot start: unknown name, a script that does not load, a bad resume."""


async def start(
    rt: Runtime, chat: Chat, body: WorkflowStart, *, home: Path, report: bool = False
) -> WorkflowRunDetail:
    """Check the script before anything is stored, then store the run and start it."""
    script, source = await _source(chat, body, home)
    if body.resume_from is not None:
        await _earlier(rt, body.resume_from)
    phases = script.meta.phases if script.meta is not None else ()
    spec = WorkflowSpec(
        name=script.name,
        source=source,
        args=body.args,
        budget=body.budget,
        resume_from=body.resume_from,
        phases=[WorkflowPhase.model_validate(phase.model_dump()) for phase in phases],
    )
    run_id = f"wf-{uuid.uuid4().hex}"
    await rt.db.transact(
        lambda conn: store.insert_run(
            conn, run_id, chat.id, spec, report=report, executor_id=rt.executor_id
        )
    )
    await engine.start_workflow_run(run_id)
    return await detail(rt, run_id)


async def detail(rt: Runtime, run_id: str) -> WorkflowRunDetail:
    run = await store.get(rt.db, run_id)
    agents = await store.agents(rt.db, run_id)
    done = await progress(rt.db, agents)
    out = store.run_out(run, await store.spent(rt.db, run_id))
    return WorkflowRunDetail(
        **out.model_dump(),
        agents=[store.agent_out(agent, done.get(agent.chat_id)) for agent in agents],
        log=await store.log_of(rt.db, run_id),
    )


async def list_of_chat(rt: Runtime, chat_id: str) -> WorkflowRunList:
    return WorkflowRunList(runs=[store.run_out(run) for run in await store.of_chat(rt.db, chat_id)])


async def cancel(rt: Runtime, run_id: str) -> bool:
    """Stop a run: its script is killed and its running agents cancelled; False once ended."""
    run = await store.get(rt.db, run_id)
    if RunStatus(run.status) not in ACTIVE:
        return False
    return await turns.request_cancel(run_id)


async def _earlier(rt: Runtime, run_id: str) -> AgentRun:
    try:
        return await store.get(rt.db, run_id)
    except store.WorkflowRunNotFound as exc:
        raise WorkflowRefused(str(exc)) from None


async def _source(chat: Chat, body: WorkflowStart, home: Path) -> tuple[Script, str]:
    """The checked script and the text it was checked from: the text is what the run stores."""
    if body.script is not None:
        try:
            return load_script(body.script, name="inline"), body.script
        except ScriptError as exc:
            raise WorkflowRefused(f"the script: {exc}") from None
    assert body.name is not None
    try:
        entry = discovery.find(Path(chat.workspace), home, body.name)
    except discovery.WorkflowNotFound as exc:
        raise WorkflowRefused(str(exc)) from None
    if entry.script is None or entry.text is None:
        raise WorkflowRefused(f"workflow {body.name}: {entry.error}")
    return entry.script, entry.text
