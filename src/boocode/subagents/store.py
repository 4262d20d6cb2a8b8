"""Subagent records: a spawn stored in one commit, and the reads the tools, API and pane use.

A subagent is an agent run of kind `subagent` (`agent_runs`, written through
`boocode.runs.store` for its status) whose conversation is a chat of its own, hidden from the
chat list and owned by the chat that spawned it (`chats.parent_chat_id`): messages, traces,
frames and snapshots of the agent loop work on it unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from boocode.contracts.runs import RunKind, RunStatus
from boocode.contracts.subagents import (
    SubagentFrame,
    SubagentOut,
    SubagentResult,
    SubagentSpec,
)
from boocode.contracts.usage import TokenUsage
from boocode.db.engine import Database
from boocode.db.tables import AgentRun, Message
from boocode.events.log import EventLog
from boocode.runs import store as runs
from boocode.runs.status import FINAL
from boocode.runs.store import ConversationRun, insert_conversation_run


class SubagentNotFound(LookupError):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"subagent {task_id} does not exist")


@dataclass(frozen=True)
class Progress:
    tool_calls: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)


async def spawn(events: EventLog, new: ConversationRun) -> SubagentOut:
    """Store the subagent (conversation, prompt, queued run) in one commit, announced to the
    parent chat. A spawn stored already is returned as it is."""

    def write(conn: Connection) -> SubagentFrame:
        insert_conversation_run(conn, new)
        run = conn.execute(select(AgentRun).where(AgentRun.id == new.run_id)).one()
        return SubagentFrame(
            chat_id=new.owner_chat_id, event="spawned", subagent=to_out(_row(run), Progress())
        )

    async with events.db.session() as session:
        stored = await session.get(AgentRun, new.run_id)
    if stored is not None:  # the spawning step ran again after a crash
        return to_out(stored, Progress())
    frame = await events.publish_with(new.owner_chat_id, write)
    assert frame is not None
    return frame.subagent


async def get(db: Database, task_id: str) -> AgentRun:
    async with db.session() as session:
        run = await session.get(AgentRun, task_id)
    if run is None or run.kind != RunKind.SUBAGENT.value:
        raise SubagentNotFound(task_id)
    return run


async def of_chat(db: Database, chat_id: str) -> list[AgentRun]:
    """The subagents a chat spawned, oldest first."""
    async with db.session() as session:
        rows = await session.execute(
            select(AgentRun)
            .where(
                AgentRun.parent_chat_id == chat_id,
                AgentRun.kind == RunKind.SUBAGENT.value,
            )
            .order_by(AgentRun.created_at, AgentRun.id)
        )
        return list(rows.scalars())


async def progress(db: Database, runs: Sequence[AgentRun]) -> dict[str, Progress]:
    """Tool calls made and tokens used so far, per conversation."""
    chats = [run.chat_id for run in runs]
    if not chats:
        return {}
    async with db.session() as session:
        counted = await session.execute(
            select(Message.chat_id, func.count())
            .where(Message.chat_id.in_(chats), Message.role == "tool")
            .group_by(Message.chat_id)
        )
        calls: dict[str, int] = {chat_id: count for chat_id, count in counted.tuples()}
        usages = (
            await session.execute(
                select(Message.chat_id, Message.usage).where(
                    Message.chat_id.in_(chats), Message.role == "assistant"
                )
            )
        ).tuples()
        totals: dict[str, TokenUsage] = {}
        for chat_id, usage in usages:
            if usage:  # a stopped answer has none (stored as JSON null, not SQL NULL)
                totals[chat_id] = totals.get(chat_id, TokenUsage()) + TokenUsage.model_validate(
                    usage
                )
    return {
        chat: Progress(tool_calls=calls.get(chat, 0), usage=totals.get(chat, TokenUsage()))
        for chat in chats
    }


async def final_answer(db: Database, conversation_id: str) -> str:
    """The last thing the subagent's model said: its answer."""
    async with db.session() as session:
        content = (
            await session.execute(
                select(Message.content)
                .where(Message.chat_id == conversation_id, Message.role == "assistant")
                .order_by(Message.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    return content if isinstance(content, str) else ""


async def store_result(db: Database, run_id: str, result: SubagentResult) -> None:
    """Keep the run's result; the first one stored stays (a re-run step finds it there)."""
    await runs.store_result(db, run_id, result.model_dump(mode="json"))


async def mark_delivered(db: Database, run_id: str) -> bool:
    """The parent has the result (subagent_result returned it): no notification follows."""

    def write(conn: Connection) -> bool:
        return (
            conn.execute(
                _MARK_DELIVERED, {"delivered_run": run_id, "delivered_at": datetime.now(UTC)}
            ).scalar_one_or_none()
            is not None
        )

    return await db.transact(write)


def take_pending(conn: Connection, chat_id: str) -> list[AgentRun]:
    """The ended subagents of `chat_id` whose notification is due, marked delivered now.

    Each is claimed by a guarded UPDATE, so two deliverers racing each get different ones.
    """
    now = datetime.now(UTC)
    pending = conn.execute(_PENDING, {"pending_chat": chat_id}).all()
    taken = []
    for row in pending:
        claimed = conn.execute(_MARK_DELIVERED, {"delivered_run": row.id, "delivered_at": now})
        if claimed.scalar_one_or_none() is not None:
            taken.append(_row(row))
    return taken


def elapsed_s(run: AgentRun, now: datetime | None = None) -> float:
    if run.started_at is None:
        return 0.0
    end = run.finished_at or now or datetime.now(UTC)
    return round(max(0.0, (end - run.started_at).total_seconds()), 3)


def to_out(run: AgentRun, progress: Progress) -> SubagentOut:
    spec = SubagentSpec.model_validate(run.spec)
    result = SubagentResult.model_validate(run.result) if run.result else None
    status = RunStatus(run.status)
    return SubagentOut(
        task_id=run.id,
        chat_id=run.parent_chat_id or "",
        conversation_id=run.chat_id,
        parent_run_id=run.parent_run_id,
        label=run.label or spec.label,
        prompt=spec.prompt,
        status=status,
        isolation=spec.isolation,
        tools=spec.tools,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        elapsed_s=elapsed_s(run),
        tool_calls=progress.tool_calls,
        usage=progress.usage,
        answer=result.answer if result and status in FINAL else None,
        error=run.error,
        worktree=result.worktree if result else None,
        notified=run.delivered_at is not None,
    )


def _row(row: Any) -> AgentRun:
    """A Core row of agent_runs as the mapped class (detached), for `to_out`."""
    return AgentRun(**{column: getattr(row, column) for column in _COLUMNS})


_COLUMNS = [column.key for column in AgentRun.__table__.columns]
_PENDING = (
    select(AgentRun)
    .where(
        AgentRun.parent_chat_id == bindparam("pending_chat"),
        AgentRun.result.is_not(None),
        AgentRun.delivered_at.is_(None),
    )
    .order_by(AgentRun.finished_at, AgentRun.id)
)
_MARK_DELIVERED = (
    update(AgentRun)
    .where(AgentRun.id == bindparam("delivered_run"), AgentRun.delivered_at.is_(None))
    .values(delivered_at=bindparam("delivered_at"))
    .returning(AgentRun.id)
)
