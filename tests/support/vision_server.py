"""A `boocode serve` whose fake model counts as able to see images, with small attachment limits.

from support.vision_server import vision_server  # in a conftest.py
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.fake_model import FakeModelServer
from support.live_server import LiveServer, fake_model_env

FILE_LIMIT = 300_000
CHAT_LIMIT = 1_000_000
IMAGE_MAX_SIDE = 64


@pytest.fixture(scope="session")
def vision_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    env = {
        **fake_model_env(fake_model_server),
        "BOOCODE_VISION_MODELS": "fake-*",
        "BOOCODE_ATTACHMENT_MAX_BYTES": str(FILE_LIMIT),
        "BOOCODE_ATTACHMENT_CHAT_MAX_BYTES": str(CHAT_LIMIT),
        "BOOCODE_ATTACHMENT_IMAGE_MAX_SIDE": str(IMAGE_MAX_SIDE),
    }
    server = LiveServer.start(tmp_path_factory.mktemp("live-vision"), env=env)
    yield server
    server.stop()
