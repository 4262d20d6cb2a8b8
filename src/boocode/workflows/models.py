"""The model and reasoning effort an `agent()` call asks for, as this server can serve them.

One endpoint serves every agent (the server's). `model` picks the model name sent to it:
`BOOCODE_MODEL_ALIASES` maps names a script uses (Claude Code's `haiku`, `sonnet`, `opus`) to
names the endpoint knows; `inherit` or no model is the chat's; Claude's names without an alias
fall back to the chat's model with a warning in the run's log; any other name is sent as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

EFFORTS = ("low", "medium", "high", "xhigh", "max")
_CLAUDE_FAMILIES = ("haiku", "sonnet", "opus")


@dataclass(frozen=True)
class ChosenModel:
    name: str
    warning: str | None = None


def parse_aliases(setting: str) -> dict[str, str]:
    """`haiku=deepseek-flash,opus=deepseek-v4-pro` as a mapping; ValueError when malformed."""
    aliases: dict[str, str] = {}
    for pair in setting.split(","):
        if not pair.strip():
            continue
        alias, sep, model = pair.partition("=")
        if not sep or not alias.strip() or not model.strip():
            raise ValueError(f"{pair.strip()!r} is not alias=model")
        aliases[alias.strip()] = model.strip()
    return aliases


def choose_model(asked: str | None, *, chat_model: str, aliases: dict[str, str]) -> ChosenModel:
    if asked is None or asked == "inherit":
        return ChosenModel(chat_model)
    if asked in aliases:
        return ChosenModel(aliases[asked])
    if asked.lower() in _CLAUDE_FAMILIES or asked.lower().startswith("claude-"):
        return ChosenModel(
            chat_model,
            f"model {asked!r} has no alias in BOOCODE_MODEL_ALIASES: using {chat_model}",
        )
    return ChosenModel(asked)


def checked_effort(effort: str | None) -> str | None:
    """The effort asked for, or a ValueError naming the ones there are."""
    if effort is None or effort in EFFORTS:
        return effort
    raise ValueError(f"effort {effort!r} is not one of {', '.join(EFFORTS)}")
