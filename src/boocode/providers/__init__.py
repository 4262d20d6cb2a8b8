"""Model providers: an OpenAI-compatible client, usage normalisation and the offline demo."""

from boocode.providers.base import ChatModel
from boocode.providers.demo import DemoModel
from boocode.providers.errors import ProviderError, ProviderErrorKind
from boocode.providers.factory import create_model
from boocode.providers.openai_compat import OpenAICompatModel
from boocode.providers.types import DeltaKind, DeltaSink, ModelResponse, ToolCall
from boocode.providers.usage import Usage

__all__ = [
    "ChatModel",
    "DeltaKind",
    "DeltaSink",
    "DemoModel",
    "ModelResponse",
    "OpenAICompatModel",
    "ProviderError",
    "ProviderErrorKind",
    "ToolCall",
    "Usage",
    "create_model",
]
