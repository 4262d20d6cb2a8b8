"""What the settings ask of the sandbox: environment defaults, then the project's `[sandbox]`.

The table, in `<workspace>/.boocode/config.toml` (every key optional):
`mode = "auto" | "required" | "off"`, `network = false`, `env = ["NAME", ...]`,
`read_only = ["/opt/toolchain", "~/.cargo"]`, `allow_hard_links = false`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from boocode.config import Settings
from boocode.contracts.sandbox import SandboxMode

CONFIG_PATH = Path(".boocode") / "config.toml"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ProjectSandbox(BaseModel):
    """The `[sandbox]` table of `<workspace>/.boocode/config.toml`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    mode: Literal["auto", "required", "off"] | None = None
    network: bool | None = None
    env: list[str] = []
    """Names of server environment variables a command also receives."""
    read_only: list[str] = []
    """Directories a confined command also sees, read-only (absolute or starting with `~`)."""
    allow_hard_links: bool | None = None

    @field_validator("env")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _ENV_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return names

    @field_validator("read_only")
    @classmethod
    def _absolute(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if "\x00" in path or not os.path.isabs(os.path.expanduser(path)):
                raise ValueError(f"{path!r} must be an absolute path or start with '~'")
        return paths


@dataclass(frozen=True)
class SandboxPolicy:
    """The effective sandbox settings of one workspace."""

    mode: SandboxMode = SandboxMode.AUTO
    network: bool = False
    env_names: tuple[str, ...] = ()
    read_only: tuple[Path, ...] = ()
    allow_hard_links: bool = False
    problem: str | None = None
    """Why the project's `[sandbox]` table was ignored, when it was."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxPolicy:
        """The environment defaults (`BOOCODE_SANDBOX_*`)."""
        return cls(
            mode=SandboxMode(settings.sandbox_mode),
            network=settings.sandbox_network,
            env_names=tuple(_split(settings.sandbox_env, ",")),
            read_only=tuple(_path(p) for p in _split(settings.sandbox_read_only, os.pathsep)),
            allow_hard_links=settings.sandbox_allow_hard_links,
        )

    def with_project(self, workspace: Path) -> SandboxPolicy:
        """These defaults overridden by the project's table; a project cannot lower `required`.

        An unreadable or invalid table leaves the defaults in force and is reported in `problem`.
        """
        try:
            table = _read_table(workspace)
        except ValueError as exc:
            return replace(self, problem=str(exc))
        mode = SandboxMode(table.mode) if table.mode else self.mode
        if self.mode is SandboxMode.REQUIRED:
            mode = SandboxMode.REQUIRED
        return SandboxPolicy(
            mode=mode,
            network=self.network if table.network is None else table.network,
            env_names=tuple(dict.fromkeys([*self.env_names, *table.env])),
            read_only=tuple(dict.fromkeys([*self.read_only, *map(_path, table.read_only)])),
            allow_hard_links=(
                self.allow_hard_links if table.allow_hard_links is None else table.allow_hard_links
            ),
        )


def _read_table(workspace: Path) -> ProjectSandbox:
    path = workspace / CONFIG_PATH
    if not path.is_file():
        return ProjectSandbox()
    try:
        with path.open("rb") as fh:
            table: Any = tomllib.load(fh).get("sandbox", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {CONFIG_PATH}: {exc}") from None
    if not isinstance(table, dict):
        raise ValueError(f"[sandbox] in {CONFIG_PATH} must be a table")
    try:
        return ProjectSandbox.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise ValueError(f"invalid [sandbox] in {CONFIG_PATH}: {problems}") from None


def _split(value: str, separator: str) -> list[str]:
    return [part.strip() for part in value.split(separator) if part.strip()]


def _path(value: str) -> Path:
    return Path(os.path.expanduser(value))
