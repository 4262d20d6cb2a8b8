"""Choose the model from configuration: an explicit endpoint, DeepSeek, or the offline demo."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from boocode.providers.base import ChatModel
from boocode.providers.demo import DemoModel

OPENAI_BASE_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
DEEPSEEK_BASE_URL = "https://api.deepseek.com"
DEEPSEEK_DEFAULT_MODEL = "deepseek-flash"
KEYLESS_API_KEY = "not-needed"


def create_model(
    *,
    base_url: str | None,
    api_key: str | None,
    model: str | None,
    deepseek_api_key: str | None,
    workspace: Path,
    demo_delay_s: float = 0.03,
    idle_timeout_s: float = 120.0,
    effort: str | None = None,
) -> ChatModel:
    """Pick the model the way the environment describes it, first match wins:

    1. BOOCODE_API_KEY → that endpoint (BOOCODE_BASE_URL, default OpenAI).
    2. DEEPSEEK_API_KEY → DeepSeek (BOOCODE_BASE_URL may point at another DeepSeek host).
    3. BOOCODE_BASE_URL alone → a keyless local server such as Ollama or vLLM.
    4. nothing → the offline demo model.
    Empty strings count as unset. The DeepSeek key is never sent to a non-DeepSeek host.
    `effort` (low, medium, high, xhigh, max) is sent as `reasoning_effort`: as it is to
    DeepSeek, which takes all five; elsewhere `max` becomes `high`, the most OpenAI's API takes.
    """
    base_url, api_key, model, deepseek_api_key = (
        _set_or_none(value) for value in (base_url, api_key, model, deepseek_api_key)
    )
    endpoint: tuple[str, str, str]
    if api_key:
        endpoint = (base_url or OPENAI_BASE_URL, api_key, model or OPENAI_DEFAULT_MODEL)
    elif deepseek_api_key and (base_url is None or _is_deepseek(base_url)):
        endpoint = (
            base_url or DEEPSEEK_BASE_URL,
            deepseek_api_key,
            model or DEEPSEEK_DEFAULT_MODEL,
        )
    elif base_url:
        endpoint = (base_url, KEYLESS_API_KEY, model or OPENAI_DEFAULT_MODEL)
    else:
        return DemoModel(workspace, delay_s=demo_delay_s)
    from boocode.providers.openai_compat import OpenAICompatModel  # the SDK, only when used

    if effort == "max" and not _is_deepseek(endpoint[0]):
        effort = "high"
    return OpenAICompatModel(*endpoint, idle_timeout_s=idle_timeout_s, reasoning_effort=effort)


def _set_or_none(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return value.strip()


def _is_deepseek(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    return host == "deepseek.com" or host.endswith(".deepseek.com")
