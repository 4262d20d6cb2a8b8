"""Images described by a vision model for a chat model that cannot see them (when configured)."""

from __future__ import annotations

from boocode.attachments.errors import DescriberFailed
from boocode.config import Settings
from boocode.providers import ChatModel, ProviderError
from boocode.providers.factory import KEYLESS_API_KEY, OPENAI_BASE_URL
from boocode.providers.openai_compat import OpenAICompatModel

DESCRIBE_PROMPT = (
    "Describe this image for a coding assistant that cannot see it. Give any text in it "
    "verbatim (code, error messages, labels), then its layout and anything notable. Plain "
    "text, no preamble."
)


class ImageDescriber:
    def __init__(self, model: ChatModel) -> None:
        self.model = model

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageDescriber | None:
        """`BOOCODE_IMAGE_DESCRIBER_MODEL` at its endpoint (default: the chat model's)."""
        if not settings.image_describer_model:
            return None
        base_url = settings.image_describer_base_url or settings.base_url or OPENAI_BASE_URL
        api_key = settings.image_describer_api_key or settings.api_key or KEYLESS_API_KEY
        return cls(OpenAICompatModel(base_url, api_key, settings.image_describer_model))

    @property
    def name(self) -> str:
        return self.model.name

    async def describe(self, image_name: str, data_url: str) -> str:
        content = [
            {"type": "text", "text": DESCRIBE_PROMPT},
            {"type": "image_url", "image_url": {"url": data_url}},
        ]
        try:
            response = await self.model.complete([{"role": "user", "content": content}], [])
        except ProviderError as exc:
            raise DescriberFailed(
                f"the image describer {self.name} could not describe {image_name}: {exc}"
            ) from None
        return response.content.strip() or "(the describer saw nothing to say)"

    async def aclose(self) -> None:
        if (aclose := getattr(self.model, "aclose", None)) is not None:
            await aclose()
