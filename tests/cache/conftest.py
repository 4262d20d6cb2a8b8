"""Cache telemetry over a real server whose project has an auto-fix check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.browser import browser, page
from support.cache_session import cache_server_env, prepare_workspace
from support.fake_model import FakeModelServer
from support.live_server import LiveServer, live_server

__all__ = ["browser", "cache_server", "live_server", "page"]


@pytest.fixture(scope="session")
def cache_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    server = LiveServer.start(
        tmp_path_factory.mktemp("live-cache"), env=cache_server_env(fake_model_server)
    )
    prepare_workspace(server.workspace)
    yield server
    server.stop()
