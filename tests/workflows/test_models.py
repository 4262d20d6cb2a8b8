"""The model an agent() asks for, as the server serves it: aliases, Claude's names, any other."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from boocode.config import Settings
from boocode.workflows.models import ChosenModel, choose_model, parse_aliases

ALIASES = parse_aliases(" haiku=deepseek-flash, opus = deepseek-v4-pro ,")


def test_aliases_map_the_names_a_script_uses_to_the_endpoints() -> None:
    assert ALIASES == {"haiku": "deepseek-flash", "opus": "deepseek-v4-pro"}
    assert choose_model("opus", chat_model="m", aliases=ALIASES) == ChosenModel("deepseek-v4-pro")
    assert choose_model(None, chat_model="m", aliases=ALIASES) == ChosenModel("m")
    assert choose_model("inherit", chat_model="m", aliases=ALIASES) == ChosenModel("m")
    assert choose_model("qwen3-coder", chat_model="m", aliases=ALIASES) == ChosenModel(
        "qwen3-coder"
    )


@pytest.mark.parametrize("asked", ["sonnet", "Sonnet", "claude-opus-4-1"])
def test_claudes_names_without_an_alias_fall_back_to_the_chats_model_with_a_warning(
    asked: str,
) -> None:
    chosen = choose_model(asked, chat_model="m", aliases=ALIASES)
    assert chosen == ChosenModel(
        "m", f"model {asked!r} has no alias in BOOCODE_MODEL_ALIASES: using m"
    )


@pytest.mark.parametrize("setting", ["haiku", "=x", "haiku=", "a=b,c"])
def test_a_malformed_alias_setting_is_refused(setting: str) -> None:
    with pytest.raises(ValidationError, match="is not alias=model"):
        Settings(model_aliases=setting)
