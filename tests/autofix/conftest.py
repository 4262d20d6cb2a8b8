"""Fixtures for the auto-fix tests: small real projects, and `boocode` with the project's tools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autofix.projects import python_project, tools_env
from support.browser import browser, page  # noqa: F401
from support.fake_model import FakeModelServer
from support.live_server import LiveServer, fake_model_env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return python_project(tmp_path / "project")


@pytest.fixture(scope="session")
def autofix_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    """`boocode serve` on the fake model, with ruff on its PATH; tests shape its workspace."""
    server = LiveServer.start(
        tmp_path_factory.mktemp("autofix-live"),
        env={**fake_model_env(fake_model_server), **tools_env()},
    )
    yield server
    server.stop()
