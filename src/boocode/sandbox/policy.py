"""What the settings ask of the sandbox: environment defaults, then the project's `[sandbox]`.

The table, in `<workspace>/.boocode/config.toml` (every key optional):
`mode = "auto" | "required" | "off"`, `network = false`, `env = ["NAME", ...]`,
`read_only = ["/opt/toolchain", "~/.cargo"]`, `allow_hard_links = false`.

The table lives in the repository the agent works on (a branch, a clone, a worktree's checkout
may carry one), so it can only narrow what the server allows: a stricter mode, no network, fewer
hard links. It widens only as far as the server's `BOOCODE_SANDBOX_PROJECT_*` settings let it,
and never to the server's own variables.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from boocode.config import Settings
from boocode.contracts.sandbox import SandboxMode
from boocode.sandbox.environment import is_server_own

CONFIG_PATH = Path(".boocode") / "config.toml"
WORKTREES = Path(".boocode") / "worktrees"
"""Where subagents' worktrees are made, under the repository's top level."""
_STRICTNESS = (SandboxMode.OFF, SandboxMode.AUTO, SandboxMode.REQUIRED)
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
class ProjectAllowance:
    """How far the server lets a project's table widen the sandbox (`BOOCODE_SANDBOX_PROJECT_*`)."""

    network: bool = False
    env_names: tuple[str, ...] = ()
    read_only: tuple[Path, ...] = ()
    """A project may show these directories, or directories inside them."""
    hard_links: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ProjectAllowance:
        return cls(
            network=settings.sandbox_project_network,
            env_names=tuple(_split(settings.sandbox_project_env, ",")),
            read_only=tuple(
                _path(p) for p in _split(settings.sandbox_project_read_only, os.pathsep)
            ),
            hard_links=settings.sandbox_project_hard_links,
        )

    def allows_read_only(self, path: Path) -> bool:
        real = Path(os.path.realpath(path))
        return any(real.is_relative_to(os.path.realpath(root)) for root in self.read_only)


@dataclass(frozen=True)
class ShownDirectory:
    """A `read_only` directory as configured, and its real path when the policy was made."""

    path: Path
    real: Path


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
    refused: tuple[str, ...] = ()
    """The keys of the project's table the server does not let it widen."""
    shown: tuple[ShownDirectory, ...] = field(init=False, repr=False, compare=False)
    """`read_only` with the real path of each, found once, when the policy is made: that is
    what a command sees, so a directory swapped for a symlink later leads nowhere new."""

    def __post_init__(self) -> None:
        real = (ShownDirectory(path, Path(os.path.realpath(path))) for path in self.read_only)
        object.__setattr__(self, "shown", tuple(real))

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

    def with_project(
        self, workspace: Path, allowance: ProjectAllowance | None = None
    ) -> SandboxPolicy:
        """These defaults narrowed by the project's table, and widened only where `allowance`
        (by default: nowhere) lets it; what it asked for in vain is listed in `refused`.

        An unreadable or invalid table leaves the defaults in force and is reported in `problem`.
        """
        allowance = allowance or ProjectAllowance()
        try:
            table = _read_table(workspace)
        except ValueError as exc:
            return replace(self, problem=str(exc))
        refused: list[str] = []
        mode = self.mode
        if table.mode is not None:
            asked = SandboxMode(table.mode)
            if _STRICTNESS.index(asked) >= _STRICTNESS.index(self.mode):
                mode = asked
            else:
                refused.append(f'mode = "{asked.value}"')
        network = self.network
        if table.network is not None:
            if table.network and not self.network and not allowance.network:
                refused.append("network = true")
            else:
                network = table.network
        env_names = list(self.env_names)
        for name in table.env:
            if name in allowance.env_names and not is_server_own(name):
                env_names.append(name)
            elif name not in self.env_names:
                refused.append(f'env "{name}"')
        read_only = list(self.read_only)
        for entry in map(_path, table.read_only):
            if allowance.allows_read_only(entry):
                read_only.append(entry)
            elif entry not in self.read_only:
                refused.append(f'read_only "{entry}"')
        hard_links = self.allow_hard_links
        if table.allow_hard_links is not None:
            if table.allow_hard_links and not hard_links and not allowance.hard_links:
                refused.append("allow_hard_links = true")
            else:
                hard_links = table.allow_hard_links
        return SandboxPolicy(
            mode=mode,
            network=network,
            env_names=tuple(dict.fromkeys(env_names)),
            read_only=tuple(dict.fromkeys(read_only)),
            allow_hard_links=hard_links,
            refused=tuple(refused),
        )


def governing_workspace(workspace: Path) -> Path:
    """The workspace whose table governs `workspace`: a subagent's worktree
    (`<top>/.boocode/worktrees/<name>/<subdir>`) is governed by the tree its parent chat works
    in (`<top>/<subdir>`), never by a table committed in its own checkout."""
    parts = workspace.parts
    marker = WORKTREES.parts
    for index in range(len(parts) - len(marker)):
        if parts[index : index + len(marker)] == marker:
            rest = parts[index + len(marker) + 1 :]
            return governing_workspace(Path(*parts[:index], *rest))
    return workspace


def _read_table(workspace: Path) -> ProjectSandbox:
    # Imported here: the file tools import the sandbox, so a module-level import is circular.
    from boocode.tools.project_config import read_project_config

    try:
        table: Any = read_project_config(workspace).get("sandbox", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
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
