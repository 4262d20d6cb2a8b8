from collections.abc import AsyncIterator

import pytest

from boocode.providers import OpenAICompatModel
from support.fake_model import FAKE_MODEL_NAME, FakeModelServer


@pytest.fixture
async def model(fake_model: FakeModelServer) -> AsyncIterator[OpenAICompatModel]:
    """A real client of the shared fake model server (`fake_model` is in tests/conftest.py)."""
    chat_model = OpenAICompatModel(
        fake_model.base_url, fake_model.api_key, FAKE_MODEL_NAME, max_retries=2, timeout_s=5
    )
    yield chat_model
    await chat_model.aclose()
