"""What auto-fix does for one chat: the project's `[autofix]` table, detection, the chat's switch.

The table, in `<workspace>/.boocode/config.toml` (every key optional):
`command = ["pnpm", "build"]` (or several: `[["ruff", "check"], ["pytest"]]`),
`enabled = true`, `max_attempts = 3`, `timeout_s = 120`.
"""

from __future__ import annotations

import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from boocode.autofix.detect import detect
from boocode.contracts.autofix import AutofixSource
from boocode.tools.project_config import CONFIG_PATH, read_project_config

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_TIMEOUT_S = 120.0
MAX_TIMEOUT_S = 600.0

Argv = list[str]


class ProjectAutofix(BaseModel):
    """The `[autofix]` table of `<workspace>/.boocode/config.toml`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    command: list[Argv] | None = None
    """Commands run in order, each an argv; a single argv is accepted as one command."""
    enabled: bool = True
    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=20)
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, le=MAX_TIMEOUT_S)

    @field_validator("command", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
            value = [value]
        if not isinstance(value, list) or not value or not all(_is_argv(argv) for argv in value):
            raise ValueError(
                'must be a program and its arguments, e.g. ["pnpm", "build"], '
                'or a list of them, e.g. [["ruff", "check"], ["pytest", "-q"]]'
            )
        return value


def _is_argv(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(part, str) for part in value)
        and bool(value[0])
    )


class ProjectConfigError(ValueError):
    """`.boocode/config.toml` cannot be read or its `[autofix]` table is invalid."""


def read_project_autofix(workspace: Path) -> ProjectAutofix:
    """The project's `[autofix]` table, with defaults for whatever it leaves out."""
    try:
        table = read_project_config(workspace).get("autofix", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectConfigError(f"cannot read {CONFIG_PATH}: {exc}") from None
    if not isinstance(table, dict):
        raise ProjectConfigError(f"[autofix] in {CONFIG_PATH} must be a table")
    try:
        config = ProjectAutofix.model_validate(table)
    except ValidationError as exc:
        raise ProjectConfigError(f"invalid [autofix] in {CONFIG_PATH}: {_describe(exc)}") from None
    return config


@dataclass(frozen=True)
class AutofixPlan:
    """Auto-fix for one chat: which commands, whether they run, and why."""

    commands: list[Argv]
    source: AutofixSource
    reason: str
    project_enabled: bool
    chat_setting: bool | None
    max_attempts: int
    timeout_s: float

    @property
    def enabled(self) -> bool:
        wanted = self.project_enabled if self.chat_setting is None else self.chat_setting
        return wanted and bool(self.commands)

    @property
    def summary(self) -> str:
        """The reason, with the switch that turns it off when one does."""
        if not self.commands or self.enabled:
            return self.reason
        if self.chat_setting is False:
            return f"switched off for this chat; {self.reason}"
        return f"switched off in {CONFIG_PATH} (enabled = false); {self.reason}"


def plan_for(workspace: Path, chat_setting: bool | None) -> AutofixPlan:
    """The configured command if there is one, else the detected one; off when none fits."""
    try:
        config = read_project_autofix(workspace)
    except ProjectConfigError as exc:
        # A broken config switches auto-fix off and says why; it never breaks a turn.
        return AutofixPlan(
            [], AutofixSource.NONE, str(exc), False, chat_setting,
            DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_S,
        )  # fmt: skip
    configured = config.command
    if configured is not None:
        shown = " then ".join(f"`{shlex.join(argv)}`" for argv in configured)
        commands, source = configured, AutofixSource.CONFIG
        reason = f"{shown}: set in {CONFIG_PATH}"
    else:
        found = detect(workspace)
        commands = found.commands
        source = AutofixSource.DETECTED if found.commands else AutofixSource.NONE
        reason = found.reason
    return AutofixPlan(
        commands=commands,
        source=source,
        reason=reason,
        project_enabled=config.enabled,
        chat_setting=chat_setting,
        max_attempts=config.max_attempts,
        timeout_s=config.timeout_s,
    )


def _describe(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "[autofix]"
        message = str(problem["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "; ".join(dict.fromkeys(problems))
