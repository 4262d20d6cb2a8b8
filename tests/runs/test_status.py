"""A run's status machine: which transitions exist, repeats, refusals, in Python and in SQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from boocode.config import Settings
from boocode.contracts.runs import RunKind, RunStatus
from boocode.db.chats import insert_chat
from boocode.db.engine import Database
from boocode.db.tables import AgentRun
from boocode.runs import store
from boocode.runs.status import InvalidTransition, check_transition

QUEUED, RUNNING = RunStatus.QUEUED, RunStatus.RUNNING
SUCCEEDED, FAILED, CANCELLED = RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED

# queued → running → succeeded | failed | cancelled; a queued run may also end cancelled or
# failed without running (docs/runs.md).
DOCUMENTED = {
    (QUEUED, RUNNING),
    (QUEUED, CANCELLED),
    (QUEUED, FAILED),
    (RUNNING, SUCCEEDED),
    (RUNNING, FAILED),
    (RUNNING, CANCELLED),
}
# How each engine names the refusal: PostgreSQL the constraint, SQLite the kind of constraint.
_REFUSED_BY_CHECK = r"ck_agent_runs_status|CHECK constraint failed"
PAIRS = [(old, new) for old in RunStatus for new in RunStatus]


@pytest.mark.parametrize(("current", "new"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_only_the_documented_transitions_and_repeats_are_allowed(
    current: RunStatus, new: RunStatus
) -> None:
    if current is new or (current, new) in DOCUMENTED:
        check_transition(current, new)
    else:
        with pytest.raises(InvalidTransition, match=f"a {current} run cannot become {new}"):
            check_transition(current, new)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(Settings(database_url=database_url).resolved_database_url)
    await database.upgrade()
    yield database
    await database.dispose()


async def _queued_run(db: Database) -> str:
    chat = await insert_chat(db, workspace="/tmp", model="demo", title="t")
    run_id = f"run-{uuid.uuid4().hex}"
    await db.transact(lambda conn: conn.execute(insert(AgentRun).values(**_row(run_id, chat.id))))
    return run_id


def _row(run_id: str, chat_id: str, status: str = "queued") -> dict[str, object]:
    return {
        "id": run_id,
        "kind": RunKind.SUBAGENT.value,  # not a turn: any number per chat
        "chat_id": chat_id,
        "turn_number": 1,
        "branch_id": 0,
        "status": status,
        "cancel_requested": False,
        "created_at": datetime.now(UTC),
    }


async def test_a_run_moves_through_its_statuses_and_a_repeat_changes_nothing(
    db: Database,
) -> None:
    run_id = await _queued_run(db)
    assert await store.transition(db, run_id, RUNNING, executor_id="serve-0") is QUEUED
    started = (await store.get(db, run_id)).started_at
    # A step run again after a crash repeats its transition: a no-op, not an error.
    assert await store.transition(db, run_id, RUNNING, executor_id="worker-1") is RUNNING
    again = await store.get(db, run_id)
    assert again.started_at == started and again.executor_id == "serve-0"

    assert await store.transition(db, run_id, FAILED, error="it broke") is RUNNING
    ended = await store.get(db, run_id)
    assert await store.transition(db, run_id, FAILED, error="other words") is FAILED
    final = await store.get(db, run_id)
    assert (final.status, final.error, final.finished_at) == (
        "failed",
        "it broke",
        ended.finished_at,
    )


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], SUCCEEDED),  # a queued run never ran: it cannot have succeeded
        ([RUNNING, SUCCEEDED], RUNNING),
        ([RUNNING, CANCELLED], SUCCEEDED),
        ([FAILED], QUEUED),
    ],
    ids=["queued-succeeded", "succeeded-running", "cancelled-succeeded", "failed-queued"],
)
async def test_an_invalid_transition_raises_and_leaves_the_record_as_it_was(
    db: Database, path: list[RunStatus], refused: RunStatus
) -> None:
    run_id = await _queued_run(db)
    for status in path:
        await store.transition(db, run_id, status)
    with pytest.raises(InvalidTransition):
        await store.transition(db, run_id, refused)
    assert (await store.get(db, run_id)).status == (path[-1] if path else QUEUED).value


async def test_the_database_refuses_an_unknown_status(db: Database) -> None:
    chat = await insert_chat(db, workspace="/tmp", model="demo", title="t")
    unknown = _row(f"run-{uuid.uuid4().hex}", chat.id, status="paused")
    with pytest.raises(IntegrityError, match=_REFUSED_BY_CHECK):
        await db.transact(lambda conn: conn.execute(insert(AgentRun).values(**unknown)))

    run_id = await _queued_run(db)
    with pytest.raises(IntegrityError, match=_REFUSED_BY_CHECK):
        await db.transact(
            lambda conn: conn.execute(
                text("UPDATE agent_runs SET status = 'paused' WHERE id = :id"), {"id": run_id}
            )
        )
    assert (await store.get(db, run_id)).status == "queued"
