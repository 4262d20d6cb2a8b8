"""One workspace's sandbox: turns a command into what actually runs, and says what it is."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from boocode.config import Settings
from boocode.contracts.sandbox import SandboxMode, SandboxStatus
from boocode.sandbox.bwrap import (
    CONFIG_DIR,
    SANDBOX_HOME,
    bwrap_argv,
    git_protection,
    is_under_any,
    remove_planted,
    visible_roots,
)
from boocode.sandbox.environment import child_environment, server_path
from boocode.sandbox.policy import ProjectAllowance, SandboxPolicy, governing_workspace
from boocode.sandbox.probe import probe

_FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin"


class CommandRefused(Exception):
    """The command cannot run: the sandbox is required and absent, or its program is not
    visible inside the sandbox. The message is for the model."""


@dataclass(frozen=True)
class PreparedCommand:
    """The argv and environment to start: bubblewrap wrapping the command, or the command."""

    argv: list[str]
    env: dict[str, str]
    planted: tuple[Path, ...] = ()
    """Settings files git outside the sandbox would read that the command must not leave."""

    def clean_up(self) -> None:
        """After the command and every process it started have ended."""
        remove_planted(self.planted)


@dataclass(frozen=True)
class Sandbox:
    """How one workspace's commands run: inside bubblewrap, unsandboxed, or not at all."""

    policy: SandboxPolicy
    workspace: Path
    """Resolved."""
    bwrap: str | None = None
    """The bubblewrap that confines commands; None when they run unsandboxed."""
    problem: str | None = None
    """Why bubblewrap is not used although the mode asks for it."""
    hidden: tuple[Path, ...] = ()
    """Paths covered inside the sandbox wherever they would show (the data dir)."""

    @classmethod
    def open(
        cls,
        policy: SandboxPolicy,
        workspace: Path,
        *,
        hidden: Sequence[Path] = (),
        program: str = "bwrap",
    ) -> Sandbox:
        """The sandbox `policy` asks for, with what this machine can do (probed once)."""
        workspace = Path(os.path.realpath(workspace))
        if policy.mode is SandboxMode.OFF:
            return cls(policy, workspace, hidden=tuple(hidden))
        found = probe(program)
        return cls(policy, workspace, found.bwrap, found.problem, tuple(hidden))

    @classmethod
    def unsandboxed(cls, workspace: Path) -> Sandbox:
        """Commands run as the server's user, with the allow-listed environment only."""
        return cls.open(SandboxPolicy(mode=SandboxMode.OFF), workspace)

    @property
    def confined(self) -> bool:
        return self.bwrap is not None

    @property
    def refuses_commands(self) -> bool:
        return self.policy.mode is SandboxMode.REQUIRED and not self.confined

    def prepare(self, argv: Sequence[str], cwd: Path) -> PreparedCommand:
        """What to start for `argv` run in `cwd` (a resolved directory of the workspace).

        Raises CommandRefused when commands are refused, or when a confined command's program
        cannot be found inside the sandbox.
        """
        if self.refuses_commands:
            raise CommandRefused(self.reason())
        if self.bwrap is None:
            env = child_environment(
                os.environ,
                path=server_path(),
                home=os.environ.get("HOME", "/"),
                extra_names=self.policy.env_names,
            )
            return PreparedCommand(list(argv), env)
        self._make_config_dir()
        path = self._visible_path()
        self._check_program(argv[0], path, cwd)
        env = child_environment(
            os.environ,
            path=path,
            home=SANDBOX_HOME,
            extra_names=self.policy.env_names,
            tmpdir="/tmp",
        )
        git = git_protection(self.workspace)
        command = bwrap_argv(
            self.bwrap,
            argv,
            workspace=self.workspace,
            cwd=cwd,
            network=self.policy.network,
            read_only=self.policy.shown,
            hidden=self.hidden,
            git=git,
        )
        return PreparedCommand(command, env, git.planted)

    def status(self) -> SandboxStatus:
        return SandboxStatus(
            mode=self.policy.mode,
            confined=self.confined,
            refuses_commands=self.refuses_commands,
            network=self.policy.network if self.confined else True,
            reason=self.reason(),
            env_names=sorted({"PATH", "HOME", *self.policy.env_names}),
            read_only=[str(path) for path in self.policy.read_only],
            allow_hard_links=self.policy.allow_hard_links,
        )

    def reason(self) -> str:
        """One line: what confines commands, or why nothing does."""
        if self.confined:
            network = "with network" if self.policy.network else "no network"
            text = "commands run in bubblewrap: workspace read-write, system read-only, " + network
        elif self.refuses_commands:
            text = f"commands are refused: {self._why_not()}"
        elif self.policy.mode is SandboxMode.OFF:
            text = 'commands run unsandboxed: [sandbox] mode is "off"'
        else:
            text = f"commands run unsandboxed: {self.problem}"
        if self.policy.problem:
            text += f" ({self.policy.problem}; the environment defaults apply)"
        if self.policy.refused:
            text += (
                f" (the server does not let the project widen it: {', '.join(self.policy.refused)})"
            )
        return text

    def _why_not(self) -> str:
        return f'[sandbox] mode is "required" but {self.problem}'

    def _visible_path(self) -> str:
        """The server's PATH without the directories a confined command cannot see."""
        return _visible_entries(server_path(), tuple(self._roots))

    @functools.cached_property
    def _roots(self) -> list[Path]:
        return visible_roots(self.workspace, self.policy.shown)

    def _visible(self, path: Path) -> bool:
        """Whether `path` (absolute) names something a confined command can see."""
        return _is_visible(path, tuple(self._roots))

    def _make_config_dir(self) -> None:
        """`.boocode` exists before a confined command starts, to be mounted read-only: a
        command cannot create the project's settings either."""
        config_dir = self.workspace / CONFIG_DIR
        if config_dir.is_symlink() or (config_dir.exists() and not config_dir.is_dir()):
            raise CommandRefused(
                f"{CONFIG_DIR} in the workspace is a symlink or a file; commands run only when it "
                "is a directory (it holds the project's settings, which commands may not change)"
            )
        with contextlib.suppress(FileExistsError):
            config_dir.mkdir()

    def _check_program(self, program: str, path: str, cwd: Path) -> None:
        if "/" not in program:
            if shutil.which(program, path=path) is None:
                raise CommandRefused(f"command not found: {program}")
            return
        full = Path(os.path.abspath(cwd / program))
        if not full.exists():
            raise CommandRefused(f"command not found: {program}")
        if not self._visible(full):
            raise CommandRefused(
                f"{program} is outside what a sandboxed command can see (the workspace, the "
                "system directories and [sandbox] read_only); run a program on PATH instead"
            )


@functools.lru_cache(maxsize=64)
def _visible_entries(path: str, roots: tuple[Path, ...]) -> str:
    entries = [
        entry
        for entry in path.split(os.pathsep)
        if os.path.isabs(entry) and _is_visible(Path(entry), roots)
    ]
    return os.pathsep.join(dict.fromkeys(entries)) or _FALLBACK_PATH


def _is_visible(path: Path, roots: tuple[Path, ...]) -> bool:
    return is_under_any(path, roots) or is_under_any(Path(os.path.realpath(path)), roots)


def sandbox_for(settings: Settings, workspace: Path) -> Sandbox:
    """The sandbox of `workspace`, read once per process: settings and project config are
    fixed at the first call, so an edit of `.boocode/config.toml` applies at the next start.

    A subagent's worktree gets the policy of the tree its parent chat works in."""
    workspace = Path(os.path.realpath(workspace))
    policy = _policy(
        SandboxPolicy.from_settings(settings),
        ProjectAllowance.from_settings(settings),
        governing_workspace(workspace),
    )
    return _cached(policy, workspace, _hidden_paths(settings), settings.sandbox_bwrap)


@functools.cache
def _policy(defaults: SandboxPolicy, allowance: ProjectAllowance, governing: Path) -> SandboxPolicy:
    return defaults.with_project(governing, allowance)


@functools.cache
def _cached(
    policy: SandboxPolicy, workspace: Path, hidden: tuple[Path, ...], program: str
) -> Sandbox:
    return Sandbox.open(policy, workspace, hidden=hidden, program=program)


def start_notice(sandbox: Sandbox) -> str:
    """The line `boocode serve` and `boocode run` print about commands."""
    return ("Sandbox: " if sandbox.confined else "WARNING: ") + sandbox.reason()


def warn_if_unconfined(settings: Settings, stream: TextIO) -> None:
    """Print the warning line when the workspace's commands would run unsandboxed."""
    sandbox = sandbox_for(settings, settings.workspace)
    if not sandbox.confined:
        print(start_notice(sandbox), file=stream, flush=True)


def _hidden_paths(settings: Settings) -> tuple[Path, ...]:
    hidden = [settings.data_dir]
    url = settings.resolved_database_url
    if url.startswith("sqlite+aiosqlite:///"):
        hidden.append(Path(url.removeprefix("sqlite+aiosqlite:///")).resolve())
    return tuple(hidden)
