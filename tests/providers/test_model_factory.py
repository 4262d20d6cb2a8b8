from pathlib import Path

import pytest

from boocode.attachments.vision import accepts_images
from boocode.providers import ChatModel, DemoModel, OpenAICompatModel, create_model


def _create(tmp_path: Path, **settings: str | None) -> ChatModel:
    config: dict[str, str | None] = {
        "base_url": None,
        "api_key": None,
        "model": None,
        "deepseek_api_key": None,
    }
    config.update(settings)
    return create_model(workspace=tmp_path, demo_delay_s=0, **config)


def _endpoint(model: ChatModel) -> tuple[str, str, str]:
    assert isinstance(model, OpenAICompatModel)
    return model.base_url, model._client.api_key, model.name


def test_nothing_configured_selects_the_demo_model(tmp_path: Path) -> None:
    model = _create(tmp_path, model="ignored-without-an-endpoint", api_key="  ")

    assert isinstance(model, DemoModel)
    assert (model.name, model.is_demo, model.label) == ("demo", True, "demo (offline demo model)")
    assert model.workspace == tmp_path
    assert model.delay_s == 0


def test_boocode_api_key_defaults_to_openai(tmp_path: Path) -> None:
    model = _create(tmp_path, api_key="sk-boo", deepseek_api_key="sk-deep")

    assert _endpoint(model) == ("https://api.openai.com/v1", "sk-boo", "gpt-4o-mini")
    assert not model.is_demo


def test_boocode_settings_choose_any_endpoint(tmp_path: Path) -> None:
    model = _create(
        tmp_path, api_key="sk-or", base_url="https://openrouter.ai/api/v1", model="qwen/qwen3"
    )

    assert _endpoint(model) == ("https://openrouter.ai/api/v1", "sk-or", "qwen/qwen3")
    assert model.label == "qwen/qwen3 via openrouter.ai"


def test_deepseek_key_alone_selects_deepseek(tmp_path: Path) -> None:
    model = _create(tmp_path, deepseek_api_key="sk-deep")

    assert _endpoint(model) == ("https://api.deepseek.com", "sk-deep", "deepseek-flash")


def test_deepseek_models_that_see_images_by_default(tmp_path: Path) -> None:
    default = _create(tmp_path, deepseek_api_key="sk-deep")

    def sees(name: str) -> bool:
        return accepts_images(name, is_demo=False, configured=None)

    assert sees(default.name)
    assert sees("deepseek-v4-flash") and sees("deepseek-v4-flash-vision-exp")
    assert not sees("deepseek-v4-pro")
    assert sees("o3") and sees("o3-2025-04-16") and not sees("o3-mini")
    assert not accepts_images(default.name, is_demo=False, configured="gpt-4o*")


def test_deepseek_key_with_a_model_choice(tmp_path: Path) -> None:
    model = _create(tmp_path, deepseek_api_key="sk-deep", model="deepseek-v4-pro")

    assert _endpoint(model) == ("https://api.deepseek.com", "sk-deep", "deepseek-v4-pro")


@pytest.mark.parametrize("deepseek_api_key", [None, "sk-deep"])
def test_base_url_without_key_is_a_local_server(
    tmp_path: Path, deepseek_api_key: str | None
) -> None:
    model = _create(
        tmp_path,
        base_url="http://localhost:11434/v1",
        model="qwen2.5-coder",
        deepseek_api_key=deepseek_api_key,
    )

    # The DeepSeek key is never sent to another host.
    assert _endpoint(model) == ("http://localhost:11434/v1", "not-needed", "qwen2.5-coder")
