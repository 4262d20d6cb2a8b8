"""The record of every agent run: created, moved through its statuses, cancelled.

Every status change of `agent_runs` goes through `transition` here (`subagents/store.py` and
`workflows/store.py` write only what their kinds add: a result, a delivery, a cached agent's
finished record). A transition is one guarded UPDATE: it succeeds only from a status the run
may leave for the new one, repeating a transition already made is a no-op, and anything else
raises `InvalidTransition`. The CHECK constraint on the table refuses an unknown status; a
partial unique index refuses a second active turn in a chat.

A queued run records the executor of the process that stored it, which starts it at once:
start-up reconciliation leaves it to that process while it lives (`boocode.runs.recovery`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Update, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from boocode.contracts.base import FrameBase
from boocode.contracts.runs import RunKind, RunStatus
from boocode.db.engine import Database
from boocode.db.tables import AgentRun, Chat, Message
from boocode.events.log import EventLog
from boocode.runs.status import (
    ACTIVE,
    FINAL,
    InvalidTransition,
    check_transition,
    sources_of,
)

F = TypeVar("F", bound=FrameBase)


class RunNotFound(LookupError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} does not exist")


class TurnInProgress(RuntimeError):
    """A chat already has an active turn: the database refused a second one."""

    def __init__(self, turn_number: int | None) -> None:
        which = f"turn {turn_number}" if turn_number is not None else "another turn"
        super().__init__(f"{which} is still running; wait for it or cancel it")
        self.turn_number = turn_number


@dataclass(frozen=True)
class NewTurn:
    run_id: str
    chat_id: str
    branch_id: int
    turn: int
    # The user message carries the same time: the timeline pairs them by (turn, created_at).
    created_at: datetime


async def open_turn(
    events: EventLog,
    *,
    chat_id: str,
    branch_id: int,
    run_id: str,
    executor_id: str | None,
    announce: Callable[[Connection, NewTurn], F],
) -> NewTurn:
    """Store a queued turn and what `announce` writes (the user's message) in one commit;
    `executor_id` is this process's, which starts it.

    The turn number is taken inside the same transaction; the active-turn index makes a
    concurrent second post fail here, before anything of it is stored (`TurnInProgress`). When
    the turn it collided with has ended by the time that is read, it is tried again.
    """
    db = events.db

    def write(conn: Connection) -> F:
        last = conn.execute(
            _LAST_TURN, {"turn_chat": chat_id, "turn_branch": branch_id}
        ).scalar_one()
        turn = NewTurn(
            run_id=run_id,
            chat_id=chat_id,
            branch_id=branch_id,
            turn=(last or 0) + 1,
            created_at=datetime.now(UTC),
        )
        conn.execute(
            _INSERT_RUN,
            {
                "id": run_id,
                "kind": RunKind.TURN.value,
                "chat_id": chat_id,
                "parent_run_id": None,
                "turn_number": turn.turn,
                "branch_id": branch_id,
                "status": RunStatus.QUEUED.value,
                "error": None,
                "cancel_requested": False,
                "executor_id": executor_id,
                "created_at": turn.created_at,
            },
        )
        opened[:] = [turn]
        return announce(conn, turn)

    opened: list[NewTurn] = []
    attempts = _OPEN_ATTEMPTS
    while True:
        try:
            await events.publish_with(chat_id, write)
            return opened[0]
        except IntegrityError:
            running = await active_turn(db, chat_id)
            if running is not None:
                raise TurnInProgress(running.turn_number) from None
            # The turn this one collided with ended before it could be read: try again.
            attempts -= 1
            if attempts == 0:
                raise


_OPEN_ATTEMPTS = 3


@dataclass(frozen=True)
class ConversationRun:
    """A run with a conversation of its own (a subagent, a workflow agent): a hidden chat owned
    by `owner_chat_id`, its first message the prompt, and the queued run."""

    run_id: str
    kind: RunKind
    conversation_id: str
    owner_chat_id: str
    parent_run_id: str
    workspace: str
    model: str
    prompt: str
    label: str
    spec: dict[str, Any]
    tools: list[str] | None = None
    depth: int = 1
    # The chat its end is reported to (a notification); None: nobody is notified.
    report_to: str | None = None
    cache_key: str | None = None
    output_schema: dict[str, Any] | None = None
    # The process storing it, which starts it at once.
    executor_id: str | None = None
    # Its own instructions after the system prompt (an agent type's), and its reasoning effort.
    system_prompt: str | None = None
    effort: str | None = None


def queued_record(new: ConversationRun, now: datetime) -> AgentRun:
    """The record `insert_conversation_run` stores at `now`, as read back (not in a session)."""
    return AgentRun(**_run_values(new, now))


def insert_conversation_run(
    conn: Connection, new: ConversationRun, now: datetime | None = None
) -> None:
    """Store a conversation run in the caller's transaction."""
    now = now or datetime.now(UTC)
    conn.execute(
        _INSERT_CHAT,
        {
            "id": new.conversation_id,
            "title": new.label,
            "created_at": now,
            "updated_at": now,
            "workspace": new.workspace,
            "model": new.model,
            "branch_id": 0,
            "last_seq": 0,
            "archived": False,
            "parent_chat_id": new.owner_chat_id,
            "tools": new.tools,
            "depth": new.depth,
            "output_schema": new.output_schema,
            "system_prompt": new.system_prompt,
            "effort": new.effort,
        },
    )
    conn.execute(_INSERT_RUN, _run_values(new, now))
    conn.execute(
        _INSERT_MESSAGE,
        {
            "chat_id": new.conversation_id,
            "branch_id": 0,
            "turn_number": 1,
            "role": "user",
            "content": new.prompt,
            "is_error": False,
            "created_at": now,
        },
    )


def _run_values(new: ConversationRun, now: datetime) -> dict[str, Any]:
    return {
        "id": new.run_id,
        "kind": new.kind.value,
        "chat_id": new.conversation_id,
        "parent_run_id": new.parent_run_id,
        "parent_chat_id": new.report_to,
        "turn_number": 1,
        "branch_id": 0,
        "status": RunStatus.QUEUED.value,
        "error": None,
        "cancel_requested": False,
        "executor_id": new.executor_id,
        "created_at": now,
        "label": new.label,
        "spec": new.spec,
        "cache_key": new.cache_key,
    }


async def transition(
    db: Database,
    run_id: str,
    new: RunStatus,
    *,
    error: str | None = None,
    executor_id: str | None = None,
) -> RunStatus:
    """Move a run to `new`; return the status it had before (equal to `new` on a repeat)."""
    return await db.transact(
        lambda conn: transition_in(conn, run_id, new, error=error, executor_id=executor_id)
    )


def transition_in(
    conn: Connection,
    run_id: str,
    new: RunStatus,
    *,
    error: str | None = None,
    executor_id: str | None = None,
) -> RunStatus:
    """`transition` in the caller's transaction (with the frame that announces it, say)."""
    before = conn.execute(_STATUS, {"status_of": run_id}).scalar_one_or_none()
    if before is None:
        raise RunNotFound(run_id)
    current = RunStatus(before)
    check_transition(current, new)
    if current is new:
        return current
    parameters: dict[str, Any] = {"moved": run_id}
    if new is RunStatus.RUNNING:
        parameters.update(moved_at=datetime.now(UTC), moved_by=executor_id)
    if new in FINAL:
        parameters.update(moved_at=datetime.now(UTC), ended_with=error)
    if conn.execute(_transition_to(new), parameters).scalar_one_or_none() is None:
        raise InvalidTransition(f"run {run_id} changed status while becoming {new.value}")
    return current


@functools.cache
def _transition_to(new: RunStatus) -> Update:
    """The statement that moves one run (`moved`) to `new` from a status allowed before it,
    built once per status."""
    at = bindparam("moved_at", type_=AgentRun.started_at.type)
    values: dict[str, Any] = {"status": new.value}
    if new is RunStatus.RUNNING:
        values["started_at"] = func.coalesce(AgentRun.started_at, at)
        values["executor_id"] = bindparam("moved_by", type_=AgentRun.executor_id.type)
    if new in FINAL:
        values["finished_at"] = at
        values["error"] = bindparam("ended_with", type_=AgentRun.error.type)
    return (
        update(AgentRun)
        .where(
            AgentRun.id == bindparam("moved"),
            AgentRun.status.in_([status.value for status in sources_of(new)]),
        )
        .values(**values)
        .returning(AgentRun.id)
    )


async def store_result(db: Database, run_id: str, result: dict[str, Any]) -> None:
    """Keep an agent run's result (as JSON); the first one stored stays (a step run again
    after a crash finds it there)."""
    await db.transact(
        lambda conn: conn.execute(_STORE_RESULT, {"result_of": run_id, "kept": result})
    )


async def request_cancel(db: Database, run_id: str) -> bool:
    """Mark an active run for cancelling; True when it was active. Durable: a run resumed
    after a restart reads the mark in its next step."""

    def write(conn: Connection) -> bool:
        marked = conn.execute(
            update(AgentRun)
            .where(AgentRun.id == run_id, AgentRun.status.in_([s.value for s in ACTIVE]))
            .values(cancel_requested=True)
            .returning(AgentRun.id)
        ).scalar_one_or_none()
        return marked is not None

    return await db.transact(write)


def read_in(conn: Connection, run_id: str) -> AgentRun:
    """The run's record as the caller's transaction sees it (not in a session)."""
    row = conn.execute(_RECORD, {"record_of": run_id}).one_or_none()
    if row is None:
        raise RunNotFound(run_id)
    return AgentRun(**row._mapping)


def store_result_in(conn: Connection, run: AgentRun, result: dict[str, Any]) -> None:
    """`store_result` in the caller's transaction, and on `run` (its record read in it)."""
    if run.result is None:
        conn.execute(_STORE_RESULT, {"result_of": run.id, "kept": result})
        run.result = result


async def get(db: Database, run_id: str) -> AgentRun:
    run = await db.read(lambda session: session.get(AgentRun, run_id))
    if run is None:
        raise RunNotFound(run_id)
    return run


async def active_turn(db: Database, chat_id: str) -> AgentRun | None:
    query = select(AgentRun).where(
        AgentRun.chat_id == chat_id,
        AgentRun.kind == RunKind.TURN.value,
        AgentRun.status.in_([status.value for status in ACTIVE]),
    )
    return await db.read(lambda session: session.execute(query).scalar_one_or_none())


async def active_runs(db: Database) -> list[AgentRun]:
    async with db.session() as session:
        rows = await session.execute(
            select(AgentRun).where(AgentRun.status.in_([status.value for status in ACTIVE]))
        )
        return list(rows.scalars())


# Built once: constructing a statement costs more than SQLite takes to run it.
_LAST_TURN = select(func.max(Message.turn_number)).where(
    Message.chat_id == bindparam("turn_chat"), Message.branch_id == bindparam("turn_branch")
)
_INSERT_RUN = insert(AgentRun)
_INSERT_CHAT = insert(Chat)
_RECORD = select(AgentRun.__table__).where(AgentRun.__table__.c.id == bindparam("record_of"))
_INSERT_MESSAGE = insert(Message)
_STORE_RESULT = (
    update(AgentRun)
    .where(AgentRun.id == bindparam("result_of"), AgentRun.result.is_(None))
    .values(result=bindparam("kept", type_=AgentRun.result.type))
)
_STATUS = select(AgentRun.status).where(AgentRun.id == bindparam("status_of"))
