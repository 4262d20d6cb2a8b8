"""Fixtures for the trace tests: storage and an event log on each engine, live servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from boocode.config import Settings
from boocode.db.chats import insert_chat
from boocode.db.engine import Database
from boocode.events.bus import LocalBus
from boocode.events.log import EventLog
from boocode.traces.recorder import TraceRecorder
from boocode.traces.store import TraceStore
from support.browser import browser, page  # noqa: F401
from support.live_server import (  # noqa: F401
    fake_live_server,
    fake_server_each_engine,
    live_server,
)


@pytest.fixture
async def events(database_url: str) -> AsyncIterator[EventLog]:
    """An event log over a freshly migrated database, its frames on an in-process bus."""
    db = Database(Settings(database_url=database_url).resolved_database_url)
    await db.upgrade()
    yield EventLog(db, LocalBus())
    await db.dispose()


@pytest.fixture
def recorder(events: EventLog) -> TraceRecorder:
    return TraceRecorder(TraceStore(events.db, events))


async def add_chat(db: Database) -> str:
    """A new chat (ids are unique: the PostgreSQL database is shared by the session)."""
    chat = await insert_chat(db, workspace=str(Path.cwd()), model="fake-model", title="traced")
    return chat.id
