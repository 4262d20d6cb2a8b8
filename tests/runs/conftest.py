"""Servers for the run-lifecycle tests: one on SQLite, one on PostgreSQL, the fake model."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from support.fake_model import FakeModelServer
from support.live_server import LiveServer, fake_model_env
from support.postgres import fresh_database

# Short enough to keep the stalled-stream tests quick, long enough for a loaded machine.
IDLE_TIMEOUT_S = "1.5"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_model_server: FakeModelServer,
) -> Iterator[LiveServer]:
    """`boocode serve` with the fake model, once per storage engine."""
    env = {
        **fake_model_env(fake_model_server),
        "BOOCODE_MODEL_IDLE_TIMEOUT_S": IDLE_TIMEOUT_S,
        "BOOCODE_MODEL_STREAM_ATTEMPTS": "2",
    }
    with contextlib.ExitStack() as stack:
        if request.param == "postgresql":
            env["BOOCODE_DATABASE_URL"] = stack.enter_context(fresh_database())
        server = LiveServer.start(tmp_path_factory.mktemp(f"runs-{request.param}"), env=env)
        stack.callback(server.stop)
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_env(
    request: pytest.FixtureRequest, fake_model: FakeModelServer
) -> Iterator[dict[str, str]]:
    """What points a server of a test's own at the fake model, and on PostgreSQL at a
    database of its own (for tests that stop and restart their server)."""
    env = fake_model_env(fake_model)
    if request.param == "sqlite":
        yield env
        return
    with fresh_database() as url:
        yield {**env, "BOOCODE_DATABASE_URL": url}
