"""Model providers: an OpenAI-compatible client, usage normalisation and the offline demo.

The OpenAI-compatible client is imported on first use: the `openai` SDK takes a third of a
second to import, which the offline demo model and the commands that call no model never pay.
"""

from typing import TYPE_CHECKING, Any

from boocode.providers.base import ChatModel
from boocode.providers.demo import DemoModel
from boocode.providers.errors import ProviderError, ProviderErrorKind
from boocode.providers.factory import create_model
from boocode.providers.types import DeltaKind, DeltaSink, ModelResponse, ToolCall
from boocode.providers.usage import Usage

if TYPE_CHECKING:
    from boocode.providers.openai_compat import OpenAICompatModel

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


def __getattr__(name: str) -> Any:
    if name == "OpenAICompatModel":
        from boocode.providers.openai_compat import OpenAICompatModel

        return OpenAICompatModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
