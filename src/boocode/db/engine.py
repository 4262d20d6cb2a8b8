"""The async engine: SQLite in WAL mode by default, PostgreSQL when configured."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

_MIGRATIONS = Path(__file__).parent / "migrations"

T = TypeVar("T")

# How long a hot-path transaction waits, on the caller's thread, for another connection's write
# lock before it goes to the waiting thread instead (seconds).
_INLINE_LOCK_WAIT_S = 0.005
# How long anything else waits for a lock before it fails (seconds).
_LOCK_WAIT_S = 30
# Commits between two checkpoints of the WAL, which run on the worker thread, not the caller's.
_CHECKPOINT_EVERY = 250


class Database:
    """One engine and its session factory for the life of a process.

    On SQLite the hot path (`transact`, `read`) runs its statements on the calling thread, with
    connections of its own: a statement takes tens of microseconds there, while a hop to a
    worker thread costs more than the statement and makes every statement wait for the GIL
    again behind the busy event loop. A transaction takes the write lock first (`BEGIN
    IMMEDIATE`), so one that finds it held by another connection has run nothing yet: it is
    handed whole to a thread that may wait for it, and the event loop never waits on a lock.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._inline: Engine | None = None
        self._waiting: Engine | None = None
        self._read_engine: Engine | None = None
        self._reads: sessionmaker[Session] | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._commits_since_checkpoint = 0
        self._checkpointing = False
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
            self.engine: AsyncEngine = create_async_engine(
                url, connect_args={"timeout": _LOCK_WAIT_S}, pool_size=8, max_overflow=8
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            sync_url = url.replace("sqlite+aiosqlite://", "sqlite://", 1)
            self._inline = _sqlite_engine(sync_url, lock_wait_s=_INLINE_LOCK_WAIT_S, writer=True)
            self._waiting = _sqlite_engine(sync_url, lock_wait_s=_LOCK_WAIT_S, writer=True)
            self._read_engine = _sqlite_engine(
                sync_url, lock_wait_s=_LOCK_WAIT_S, writer=False, connections=2
            )
            self._reads = sessionmaker(self._read_engine, expire_on_commit=False)
            self._worker = ThreadPoolExecutor(1, "boocode-sqlite")
        else:
            self.engine = create_async_engine(url, pool_size=10, max_overflow=10)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def transact(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on a connection inside one transaction and return what it returns.

        On SQLite `work` may be run on the calling thread: it must not block on anything but
        the database.
        """
        if self._inline is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(work)
        try:
            result = _transact(self._inline, work)
        except OperationalError as error:
            if not _is_locked(error):
                raise
            loop = asyncio.get_running_loop()
            assert self._waiting is not None
            result = await loop.run_in_executor(self._worker, _transact, self._waiting, work)
        self._after_commit()
        return result

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run `work` with a session for reading, and return what it returns (detached rows).

        On SQLite a read runs on the calling thread: in WAL mode readers never wait for the
        writer."""
        if self._reads is None:
            async with self.sessions() as session:
                return await session.run_sync(work)
        with self._reads() as session:
            return work(session)

    def _after_commit(self) -> None:
        """Checkpoint the WAL now and then, on the worker thread, not the caller's."""
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint < _CHECKPOINT_EVERY or self._checkpointing:
            return
        self._commits_since_checkpoint = 0
        self._checkpointing = True
        assert self._worker is not None and self._waiting is not None
        done = self._worker.submit(_checkpoint, self._waiting)
        done.add_done_callback(lambda _: setattr(self, "_checkpointing", False))

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._worker is not None:
            self._worker.shutdown()
        for sync in (self._inline, self._waiting, self._read_engine):
            if sync is not None:
                sync.dispose()


def _transact(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.begin() as conn:
        return work(conn)


def _checkpoint(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def _is_locked(error: OperationalError) -> bool:
    """Another connection holds the write lock (SQLITE_BUSY, the lock wait ran out)."""
    orig = error.orig
    return isinstance(orig, sqlite3.Error) and orig.sqlite_errorcode == sqlite3.SQLITE_BUSY


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def _upgrade(sync_conn: Any) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_engine(url: str, *, lock_wait_s: float, writer: bool, connections: int = 1) -> Engine:
    """A synchronous engine on the same file; a writer's transactions begin IMMEDIATE (they
    take the write lock before their first statement) and leave checkpoints to `_checkpoint`."""
    engine = create_engine(
        url,
        connect_args={"timeout": lock_wait_s, "check_same_thread": False},
        pool_size=connections,
        max_overflow=0,
    )

    def connected(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        _sqlite_pragmas(dbapi_conn, record)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(lock_wait_s * 1000)}")
        if writer:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            # The driver's own BEGIN is turned off; `began` says BEGIN IMMEDIATE instead.
            dbapi_conn.isolation_level = None
        cursor.close()

    def began(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", connected)
    if writer:
        event.listen(engine, "begin", began)
    return engine


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
