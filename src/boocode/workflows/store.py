"""Workflow run records: the run (kind `workflow`), its agents (kind `workflow_agent`), its log.

The run's record is an `agent_runs` row whose `chat_id` is the chat it was started from (and
`parent_chat_id` too when its end is reported there as a notification); each `agent()` is a
conversation run (`boocode.runs.store.ConversationRun`) whose parent run is the workflow run
and whose `cache_key` is its content key (`boocode.workflows.keys`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from boocode.contracts.runs import RunKind, RunStatus
from boocode.contracts.usage import TokenUsage
from boocode.contracts.workflows import (
    LogKind,
    WorkflowAgentOut,
    WorkflowAgentResult,
    WorkflowAgentSpec,
    WorkflowLogEntry,
    WorkflowResult,
    WorkflowRunOut,
    WorkflowSpec,
)
from boocode.db.engine import Database
from boocode.db.tables import AgentRun, WorkflowLogLine
from boocode.runs import store as runs
from boocode.runs.status import FINAL
from boocode.subagents.store import Progress, elapsed_s, progress


class WorkflowRunNotFound(LookupError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"workflow run {run_id} does not exist")


def insert_run(
    conn: Connection,
    run_id: str,
    chat_id: str,
    spec: WorkflowSpec,
    *,
    report: bool,
    executor_id: str | None,
) -> None:
    """Store a queued run of `chat_id`, to be started by the process of `executor_id`;
    `report`: its end is a notification to the chat (a run the chat's agent started), not only
    a frame (one the user started)."""
    conn.execute(
        insert(AgentRun).values(
            id=run_id,
            kind=RunKind.WORKFLOW.value,
            chat_id=chat_id,
            parent_chat_id=chat_id if report else None,
            turn_number=0,
            branch_id=0,
            status=RunStatus.QUEUED.value,
            cancel_requested=False,
            executor_id=executor_id,
            created_at=datetime.now(UTC),
            label=spec.name,
            spec=spec.model_dump(mode="json"),
        )
    )


async def get(db: Database, run_id: str) -> AgentRun:
    if "\x00" in run_id:  # no run's id has one, and PostgreSQL refuses to look one up
        raise WorkflowRunNotFound(run_id)
    async with db.session() as session:
        run = await session.get(AgentRun, run_id)
    if run is None or run.kind != RunKind.WORKFLOW.value:
        raise WorkflowRunNotFound(run_id)
    return run


async def of_chat(db: Database, chat_id: str) -> list[AgentRun]:
    async with db.session() as session:
        rows = await session.execute(
            select(AgentRun)
            .where(AgentRun.chat_id == chat_id, AgentRun.kind == RunKind.WORKFLOW.value)
            .order_by(AgentRun.created_at.desc(), AgentRun.id)
        )
        return list(rows.scalars())


async def agents(db: Database, run_id: str) -> list[AgentRun]:
    """The run's agents in the order they were asked for."""
    async with db.session() as session:
        rows = await session.execute(
            select(AgentRun)
            .where(
                AgentRun.parent_run_id == run_id,
                AgentRun.kind == RunKind.WORKFLOW_AGENT.value,
            )
            .order_by(AgentRun.created_at, AgentRun.id)
        )
        return list(rows.scalars())


async def by_keys(db: Database, run_id: str) -> dict[str, AgentRun]:
    """The agents of `run_id` by cache key; of several with one key, a succeeded one."""
    async with db.session() as session:
        rows = await session.execute(
            select(AgentRun).where(
                AgentRun.parent_run_id == run_id,
                AgentRun.kind == RunKind.WORKFLOW_AGENT.value,
                AgentRun.cache_key.is_not(None),
            )
        )
        found: dict[str, AgentRun] = {}
        for run in rows.scalars():
            kept = found.get(run.cache_key or "")
            if kept is None or kept.status != RunStatus.SUCCEEDED.value:
                found[run.cache_key or ""] = run
        return found


def insert_cached_agent(
    conn: Connection, *, run_id: str, parent_run_id: str, earlier: AgentRun, spec: WorkflowAgentSpec
) -> AgentRun:
    """An agent answered from an earlier run: its record points at the earlier conversation."""
    now = datetime.now(UTC)
    value = WorkflowAgentResult.model_validate(earlier.result).value
    values = dict(
        id=run_id,
        kind=RunKind.WORKFLOW_AGENT.value,
        chat_id=earlier.chat_id,
        parent_run_id=parent_run_id,
        turn_number=1,
        branch_id=0,
        status=RunStatus.SUCCEEDED.value,
        cancel_requested=False,
        created_at=now,
        started_at=now,
        finished_at=now,
        label=spec.label,
        spec=spec.model_dump(mode="json"),
        result=WorkflowAgentResult(value=value, cached_from=earlier.id).model_dump(mode="json"),
        cache_key=earlier.cache_key,
    )
    conn.execute(_INSERT_AGENT, values)
    return AgentRun(**values)


async def store_agent_result(db: Database, run_id: str, result: WorkflowAgentResult) -> None:
    await runs.store_result(db, run_id, result.model_dump(mode="json"))


async def store_run_result(db: Database, run_id: str, result: WorkflowResult) -> None:
    await db.transact(
        lambda conn: conn.execute(
            update(AgentRun)
            .where(AgentRun.id == run_id)
            .values(result=result.model_dump(mode="json"))
        )
    )


def insert_log(conn: Connection, run_id: str, kind: LogKind, text: str) -> WorkflowLogEntry:
    entry = WorkflowLogEntry(kind=kind, text=text, created_at=datetime.now(UTC))
    conn.execute(
        _INSERT_LOG,
        {"run_id": run_id, "kind": entry.kind, "text": entry.text, "created_at": entry.created_at},
    )
    return entry


# Built once: constructing a statement costs more than SQLite takes to run it.
_INSERT_AGENT = insert(AgentRun)
_INSERT_LOG = insert(WorkflowLogLine)


async def log_of(db: Database, run_id: str) -> list[WorkflowLogEntry]:
    async with db.session() as session:
        rows = await session.execute(
            select(WorkflowLogLine)
            .where(WorkflowLogLine.run_id == run_id)
            .order_by(WorkflowLogLine.id)
        )
        return [
            WorkflowLogEntry.model_validate(
                {"kind": row.kind, "text": row.text, "created_at": row.created_at}
            )
            for row in rows.scalars()
        ]


async def spent(db: Database, run_id: str) -> int:
    """Output tokens of the run's agents (an answer from an earlier run costs none)."""
    runs = [run for run in await agents(db, run_id) if not is_cached(run)]
    totals = await progress(db, runs)
    return sum(item.usage.completion_tokens for item in totals.values())


def run_out(run: AgentRun, spent_tokens: int = 0) -> WorkflowRunOut:
    spec = WorkflowSpec.model_validate(run.spec)
    result = WorkflowResult.model_validate(run.result) if run.result else WorkflowResult()
    return WorkflowRunOut(
        run_id=run.id,
        chat_id=run.chat_id,
        name=spec.name,
        status=RunStatus(run.status),
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        budget=spec.budget,
        spent=spent_tokens,
        result=result.value,
        error=run.error,
        resume_from=spec.resume_from,
        args=spec.args,
        phases=spec.phases,
    )


def agent_out(run: AgentRun, done: Progress | None = None) -> WorkflowAgentOut:
    spec = WorkflowAgentSpec.model_validate(run.spec)
    cached = is_cached(run)
    return WorkflowAgentOut(
        task_id=run.id,
        conversation_id=run.chat_id,
        label=spec.label,
        phase=spec.phase,
        status=RunStatus(run.status),
        model=spec.model,
        cached=cached,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        elapsed_s=elapsed_s(run),
        usage=done.usage if done and not cached else TokenUsage(),
        error=run.error,
    )


def is_final(run: AgentRun) -> bool:
    return RunStatus(run.status) in FINAL


def is_cached(run: AgentRun) -> bool:
    """Whether the agent's result was reused from an earlier run."""
    return bool(run.result and run.result.get("cached_from"))
