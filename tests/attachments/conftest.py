"""Attachments over real HTTP, and in the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.browser import browser, page
from support.fake_model import FakeModelServer
from support.live_server import LiveServer, fake_live_server, fake_model_env
from support.postgres import fresh_database
from support.vision_server import vision_server

__all__ = [
    "browser",
    "described_server",
    "fake_live_server",
    "page",
    "store_elsewhere_server",
    "vision_server",
]


@pytest.fixture(scope="session")
def described_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    """A text-only chat model (fake-model) with a vision model (fake-vision) to describe images."""
    env = {**fake_model_env(fake_model_server), "BOOCODE_IMAGE_DESCRIBER_MODEL": "fake-vision"}
    server = LiveServer.start(tmp_path_factory.mktemp("live-described"), env=env)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def store_elsewhere_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    """A vision-capable fake model whose attachments directory is outside its data dir."""
    root = tmp_path_factory.mktemp("live-store-elsewhere")
    env = {
        **fake_model_env(fake_model_server),
        "BOOCODE_VISION_MODELS": "fake-*",
        "BOOCODE_ATTACHMENTS_DIR": str(root / "elsewhere" / "store"),
    }
    server = LiveServer.start(root / "server", env=env)
    yield server
    server.stop()


LIMITS = {"file": 400_000, "message": 500_000, "chat": 1_000_000, "request": 600_000}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def limits_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_model_server: FakeModelServer,
) -> Iterator[LiveServer]:
    """A vision-capable fake model with small attachment limits, on SQLite and on PostgreSQL."""
    env = {
        **fake_model_env(fake_model_server),
        "BOOCODE_VISION_MODELS": "fake-*",
        "BOOCODE_ATTACHMENT_MAX_BYTES": str(LIMITS["file"]),
        "BOOCODE_ATTACHMENT_MESSAGE_MAX_BYTES": str(LIMITS["message"]),
        "BOOCODE_ATTACHMENT_CHAT_MAX_BYTES": str(LIMITS["chat"]),
        "BOOCODE_ATTACHMENT_REQUEST_MAX_BYTES": str(LIMITS["request"]),
    }
    root = tmp_path_factory.mktemp(f"live-limits-{request.param}")
    if request.param == "sqlite":
        server = LiveServer.start(root, env=env)
        yield server
        server.stop()
        return
    with fresh_database() as postgres_url:
        server = LiveServer.start(root, env={**env, "BOOCODE_DATABASE_URL": postgres_url})
        yield server
        server.stop()
