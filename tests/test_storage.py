"""Storage on both engines: migrations, the event log's ordering and replay."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select, text, update

from boocode.config import Settings
from boocode.contracts.frames import MessageDeltaFrame
from boocode.db.chats import insert_chat
from boocode.db.engine import Database, alembic_config
from boocode.db.tables import Base, Chat, Message
from boocode.events.bus import LocalBus
from boocode.events.log import EventLog
from boocode.tools.result import (
    CANCELLED_AFTER_A_CRASH,
    CANCELLED_BEFORE_RUNNING,
    CANCELLED_WHILE_RUNNING,
)
from support.postgres import fresh_database
from support.processes import boocode_env, run_boocode

TABLES = {
    "chats",
    "messages",
    "agent_runs",
    "running_commands",
    "events",
    "tool_traces",
    "agent_snapshots",
    "file_writes",
}


async def _database(url: str) -> Database:
    db = Database(Settings(database_url=url).resolved_database_url)
    await db.upgrade()
    return db


async def _new_chat(db: Database) -> str:
    return (await insert_chat(db, workspace="/tmp", model="demo", title="t")).id


async def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    db = await _database(database_url)
    await db.upgrade()
    async with db.engine.connect() as conn:
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    await db.dispose()
    assert names >= TABLES
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_migrations_match_the_declared_tables(database_url: str) -> None:
    db = await _database(database_url)
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await db.dispose()
    assert diff == []


async def test_timestamps_read_back_in_utc(database_url: str) -> None:
    db = await _database(database_url)
    chat_id = await _new_chat(db)
    async with db.session() as session:
        chat = await session.get(Chat, chat_id)
    await db.dispose()
    assert chat is not None and chat.created_at.utcoffset() == timedelta(0)


async def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    db = await _database(f"sqlite:///{tmp_path / 'wal.sqlite'}")
    async with db.engine.connect() as conn:
        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
    await db.dispose()
    assert mode == "wal"


async def test_messages_keep_structured_content(database_url: str) -> None:
    db = await _database(database_url)
    chat_id = await _new_chat(db)
    parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "x"}}]
    async with db.session() as session, session.begin():
        session.add(
            Message(
                chat_id=chat_id,
                turn_number=1,
                role="user",
                content=parts,
                created_at=datetime.now(UTC),
            )
        )
    async with db.session() as session:
        stored = (
            await session.execute(select(Message).where(Message.chat_id == chat_id))
        ).scalar_one()
    await db.dispose()
    assert stored.content == parts
    assert stored.branch_id == 0


async def test_event_log_numbers_frames_without_gaps_and_replays_them(database_url: str) -> None:
    db = await _database(database_url)
    bus = LocalBus()
    log = EventLog(db, bus)
    chat_id = await _new_chat(db)
    subscription = bus.subscribe(chat_id)
    for word in ["a", "b", "c", "d"]:
        await log.publish(MessageDeltaFrame(chat_id=chat_id, turn=1, text=word))
    live = [subscription.queue.get_nowait() for _ in range(4)]
    replay = await log.frames_after(chat_id, 2)
    await db.dispose()
    assert [frame.seq for frame in live] == [1, 2, 3, 4]
    assert replay is not None
    assert [(frame.seq, frame.text) for frame in replay] == [(3, "c"), (4, "d")]


async def test_event_log_says_when_frames_are_gone(database_url: str, monkeypatch) -> None:
    monkeypatch.setattr("boocode.events.log.RETAINED_FRAMES", 2)
    db = await _database(database_url)
    log = EventLog(db, LocalBus())
    chat_id = await _new_chat(db)
    for word in ["a", "b", "c", "d", "e"]:
        await log.publish(MessageDeltaFrame(chat_id=chat_id, turn=1, text=word))
    await log.prune(chat_id)
    gone = await log.frames_after(chat_id, 1)
    kept = await log.frames_after(chat_id, 3)
    await db.dispose()
    assert gone is None
    assert kept is not None and [frame.seq for frame in kept] == [4, 5]


async def test_a_write_that_finds_the_lock_held_waits_off_the_event_loop(tmp_path) -> None:
    """Hot-path writes run on the caller's thread; one that meets another process's write lock
    is handed to a thread that waits for it, and the event loop goes on meanwhile."""
    db = await _database(f"sqlite:///{tmp_path}/b.db")
    chat_id = await _new_chat(db)
    other = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process, mid-transaction

    def rename(conn: Connection) -> str:
        conn.execute(update(Chat).where(Chat.id == chat_id).values(title="renamed"))
        return "done"

    write = asyncio.create_task(db.transact(rename))
    ticks = 0
    for _ in range(20):  # the loop runs while the write waits
        await asyncio.sleep(0.01)
        ticks += 1
    assert not write.done()
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(write, 10) == "done"
    assert ticks == 20
    title = await db.read(lambda session: session.get(Chat, chat_id))
    assert title is not None and title.title == "renamed"
    await db.dispose()


async def test_a_failed_write_leaves_nothing_and_the_next_one_lands(database_url: str) -> None:
    db = await _database(database_url)
    chat_id = await _new_chat(db)

    def half_then_fail(conn: Connection) -> None:
        conn.execute(update(Chat).where(Chat.id == chat_id).values(title="half"))
        raise RuntimeError("broke mid-way")

    with pytest.raises(RuntimeError, match="broke mid-way"):
        await db.transact(half_then_fail)
    chat = await db.read(lambda session: session.get(Chat, chat_id))
    assert chat is not None and chat.title == "t"
    await db.transact(
        lambda conn: conn.execute(update(Chat).where(Chat.id == chat_id).values(title="whole"))
    )
    chat = await db.read(lambda session: session.get(Chat, chat_id))
    assert chat is not None and chat.title == "whole"
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, with no schema yet, on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'boocode.sqlite'}"
        return
    with fresh_database() as url:
        yield url


def _upgrade_to(revision: str) -> Callable[[Connection], None]:
    def upgrade(sync_conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    return upgrade


async def test_tool_results_stored_before_the_cancelled_flag_get_it_from_their_text(
    empty_database_url: str,
) -> None:
    db = Database(Settings(database_url=empty_database_url).resolved_database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade_to("0008"))
        await conn.execute(
            text(
                "INSERT INTO chats (id, title, created_at, updated_at, workspace, model,"
                " branch_id, last_seq) VALUES ('c1', 't', '2026-01-01', '2026-01-01', '/w',"
                " 'demo', 0, 0)"
            )
        )
        old_rows = [
            ("tool", True, CANCELLED_WHILE_RUNNING),
            ("tool", True, CANCELLED_BEFORE_RUNNING),
            ("tool", True, CANCELLED_AFTER_A_CRASH),
            ("tool", True, "not run: the turn ended (failed)"),
            ("tool", False, "exit code: 0 (3 ms)"),
            ("user", False, CANCELLED_WHILE_RUNNING),  # a user who typed it
        ]
        for turn, (role, is_error, content) in enumerate(old_rows, start=1):
            literal = json.dumps(content).replace("'", "''")
            await conn.execute(
                text(
                    "INSERT INTO messages (chat_id, branch_id, turn_number, role, content,"
                    f" is_error, created_at) VALUES ('c1', 0, {turn}, '{role}', '{literal}',"
                    f" {str(is_error).upper()}, '2026-01-01')"
                )
            )
    await db.upgrade()
    rows = await db.read(
        lambda session: session.execute(
            select(Message.cancelled).where(Message.chat_id == "c1").order_by(Message.turn_number)
        ).all()
    )
    await db.dispose()
    assert [row.cancelled for row in rows] == [True, True, True, False, False, False]


def test_an_empty_database_file_is_refused_never_replaced(tmp_path: Path, workspace: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = boocode_env(data, workspace)
    for name in ("boocode.sqlite", "dbos.sqlite"):
        empty = data / name
        empty.write_bytes(b"")  # a copy cut short, a truncated file: no write-ahead log beside
        for args in (["db", "upgrade"], ["serve", "--port", "1"]):
            result = run_boocode(*args, env=env)
            assert result.returncode == 2, (args, result.stderr)
            assert result.stderr.strip() == (
                f"boocode: {empty} is empty, not a database: it may have been cut short; "
                "restore it from a backup, or delete it to start afresh"
            )
            assert "running" not in result.stdout
        assert empty.stat().st_size == 0
        empty.unlink()


def test_a_new_data_dir_starts_with_a_new_database(tmp_path: Path, workspace: Path) -> None:
    data = tmp_path / "new" / "data"
    result = run_boocode("db", "upgrade", env=boocode_env(data, workspace))
    assert result.returncode == 0, result.stderr
    assert (data / "boocode.sqlite").read_bytes().startswith(b"SQLite format 3\x00")
    ran = run_boocode("run", "hello", env=boocode_env(data, workspace))
    assert ran.returncode == 0, ran.stderr
