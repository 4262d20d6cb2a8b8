"""Shared fixtures: the scripted fake model, databases on both engines, process helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.browser import BROWSER_FIXTURES, missing_chromium
from support.fake_model import FakeModelServer
from support.postgres import fresh_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without Chromium, browser tests skip before their live servers are started for nothing."""
    reason = missing_chromium()
    if reason is None:
        return
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def fake_model_server() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def fake_model(fake_model_server: FakeModelServer) -> Iterator[FakeModelServer]:
    fake_model_server.reset()
    yield fake_model_server
    fake_model_server.reset()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'boocode.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """What puts a child `boocode` on SQLite (its data dir's file), then on a fresh PostgreSQL
    database of its own (runs another test left are not its to recover): `**` it into its env."""
    if request.param == "sqlite":
        yield {}
        return
    with fresh_database() as url:
        yield {"BOOCODE_DATABASE_URL": url}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "README.md").write_text("# Sample project\nA tiny project for tests.\n")
    (root / "app.py").write_text("print('hello')\n")
    return root
