"""Fixtures for the sessions tests: a runtime on each engine, seeded chats, live servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from session_browser import chromium, page  # noqa: F401
from session_seed import ChatSeed

from boocode.agent import runtime
from boocode.agent.runtime import Runtime
from boocode.config import Settings
from boocode.db.engine import Database
from boocode.events.bus import LocalBus
from boocode.events.log import EventLog
from support.live_server import fake_live_server, live_server  # noqa: F401


@pytest.fixture
async def rt(database_url: str, workspace: Path, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The process runtime over a fresh database (no DBOS: these tests seed turns directly)."""
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data", workspace=workspace)
    db = Database(settings.resolved_database_url)
    await db.upgrade()
    bus = LocalBus()
    installed = Runtime(settings=settings, db=db, bus=bus, events=EventLog(db, bus))
    runtime.install(installed)
    yield installed
    runtime.install(None)
    await db.dispose()


@pytest.fixture
async def seed(rt: Runtime, workspace: Path) -> ChatSeed:
    return await ChatSeed(rt, workspace).create()
