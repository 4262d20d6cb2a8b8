"""Which models accept images (`image_url` parts in user messages): configuration, with defaults.

DeepSeek's model table (deepseek-v4-flash, deepseek-v4-pro) documents no image input, so they
are text-only unless configured otherwise. OpenAI's current chat models and the vision models
that self-hosted servers (vLLM, SGLang, Ollama) serve accept `image_url`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

DEFAULT_VISION_MODELS = (
    "gpt-4o*",
    "gpt-4.1*",
    "gpt-5*",
    "o3*",
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
