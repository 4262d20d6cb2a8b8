"""Attachments over real HTTP, and in the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.browser import browser, page
from support.fake_model import FakeModelServer
from support.live_server import LiveServer, fake_live_server, fake_model_env
from support.vision_server import vision_server

__all__ = ["browser", "described_server", "fake_live_server", "page", "vision_server"]


@pytest.fixture(scope="session")
def described_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    """A text-only chat model (fake-model) with a vision model (fake-vision) to describe images."""
    env = {**fake_model_env(fake_model_server), "BOOCODE_IMAGE_DESCRIBER_MODEL": "fake-vision"}
    server = LiveServer.start(tmp_path_factory.mktemp("live-described"), env=env)
    yield server
    server.stop()
