"""The async engine: SQLite in WAL mode by default, PostgreSQL when configured."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

_MIGRATIONS = Path(__file__).parent / "migrations"

T = TypeVar("T")


class Database:
    """One engine and its session factory for the life of a process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
            self.engine: AsyncEngine = create_async_engine(
                url, connect_args={"timeout": 30}, pool_size=8, max_overflow=8
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            # Hot-path writes go through one thread holding one connection: a transaction
            # costs one hop to that thread instead of one per statement.
            self._writer: ThreadPoolExecutor | None = ThreadPoolExecutor(1, "boocode-sqlite")
            self._sync_engine: Engine | None = create_engine(
                url.replace("sqlite+aiosqlite://", "sqlite://", 1),
                connect_args={"timeout": 30, "check_same_thread": False},
                pool_size=1,
                max_overflow=0,
            )
            event.listen(self._sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(url, pool_size=10, max_overflow=10)
            self._writer = None
            self._sync_engine = None
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def transact(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on a connection inside one transaction and return what it returns."""
        if self._writer is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._writer, self._transact_sqlite, work)
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    def _transact_sqlite(self, work: Callable[[Connection], T]) -> T:
        assert self._sync_engine is not None
        with self._sync_engine.begin() as conn:
            return work(conn)

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._writer is not None and self._sync_engine is not None:
            self._writer.submit(self._sync_engine.dispose).result()
            self._writer.shutdown()


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


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
