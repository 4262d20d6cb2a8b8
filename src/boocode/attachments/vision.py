"""Which models accept images (`image_url` parts in user messages): configuration, with defaults.

DeepSeek's `deepseek-flash` (V4.1 Flash, its default model) takes images as `image_url` parts, and
so do the retired names it still answers for (`deepseek-v4-flash`, `deepseek-v4-flash-vision-exp`);
DeepSeek lists `deepseek-v4-pro` without image input (pricing page, checked 2026-11). OpenAI's
current chat models (not the text-only `o3-mini`) and the vision models that self-hosted servers
(vLLM, SGLang, Ollama) serve accept `image_url`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

DEFAULT_VISION_MODELS = (
    "deepseek-flash*",
    "deepseek-v4-flash*",
    "gpt-4o*",
    "gpt-4.1*",
    "gpt-5*",
    "o3",
    "o3-20*",
    "o3-pro*",
    "o4*",
    "*vision*",
    "*-vl*",
    "*llava*",
    "qwen*vl*",
    "gemma3*",
    "pixtral*",
    "llama4*",
)


def vision_patterns(configured: str | None) -> tuple[str, ...]:
    """`BOOCODE_VISION_MODELS` (comma-separated globs) replaces the defaults when set."""
    if configured is None or not configured.strip():
        return DEFAULT_VISION_MODELS
    return tuple(p.strip().lower() for p in configured.split(",") if p.strip())


def accepts_images(model_name: str, *, is_demo: bool, configured: str | None) -> bool:
    """The offline demo model takes images (it only says it saw them)."""
    if is_demo:
        return True
    name = model_name.lower().rsplit("/", 1)[-1]
    return any(fnmatchcase(name, pattern) for pattern in vision_patterns(configured))
