"""Git run by the server itself, outside the sandbox, on a repository a command can change.

A confined command writes the workspace, so it can write a repository's settings there: in a
repository it created itself, through a worktree's `commondir` file, or in a `.git` it renamed
aside. Nothing such settings name may run with the server's rights: hooks, fsmonitor, the
filter, diff and merge drivers of the repository's own config, signing, every transport. The
user's global and system git config stay in force (the user's identity, their own filters):
no command can write those. Git also gets the sandbox's allow-listed environment, never the
server's secrets.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from boocode.sandbox.environment import child_environment, server_path

HARDENED = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.sshCommand=false",
    "core.askPass=false",
    "core.pager=cat",
    "credential.helper=",
    "protocol.allow=never",
    "commit.gpgSign=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "submodule.recurse=false",
    "diff.ignoreSubmodules=all",
)
"""`-c` settings on every call: they outrank every config file."""
TRUSTED_SCOPES = frozenset({"system", "global", "command"})
"""Config no command can write: the machine's, the user's, and these `-c` settings."""
_DRIVER = re.compile(
    r"(?P<key>(?:filter|diff|merge)\..+\.(?P<var>clean|smudge|process|command|textconv|driver))"
)
_FILTER_REQUIRED = re.compile(r"filter\.(?P<name>.+)\.required")
_TIMEOUT_S = 60.0


class HostGitError(RuntimeError):
    """Git failed, took too long, or the repository asks for something refused here."""


@dataclass(frozen=True)
class _Outcome:
    returncode: int
    stdout: str
    stderr: str


async def git(cwd: Path, *args: str, timeout_s: float = _TIMEOUT_S) -> str:
    """`git args` in `cwd`, hardened; its stripped output. HostGitError with git's last line."""
    settings = [*HARDENED, *await _neutralised_drivers(cwd, timeout_s)]
    done = await _run(cwd, settings, args, timeout_s)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise HostGitError(f"git {args[0]} failed: {lines[-1] if lines else 'no message'}")
    return done.stdout.strip()


def environment() -> dict[str, str]:
    """The sandbox's allow-list, with the server's HOME (the user's own git config) and no
    prompt for credentials."""
    env = child_environment(
        os.environ,
        path=server_path(),
        home=os.environ.get("HOME", "/"),
        extra_names=("XDG_CONFIG_HOME",),
    )
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_PAGER"] = "cat"
    return env


async def _neutralised_drivers(cwd: Path, timeout_s: float) -> list[str]:
    """`-c` settings emptying every command the repository's own config names for a filter,
    diff or merge driver (empty means none), and refusing a `core.worktree` it sets."""
    listing = await _run(
        cwd, HARDENED, ("config", "--list", "--show-scope", "--name-only", "-z"), timeout_s
    )
    fields = listing.stdout.split("\0")
    settings: list[str] = []
    for scope, key in zip(fields[::2], fields[1::2], strict=False):
        if scope in TRUSTED_SCOPES:
            continue
        if key == "core.worktree":
            raise HostGitError(
                f"the repository at {cwd} sets core.worktree, which BooCode does not follow"
            )
        if (driver := _DRIVER.fullmatch(key)) is not None:
            settings.append(f"{driver['key']}=")
        elif (required := _FILTER_REQUIRED.fullmatch(key)) is not None:
            settings.append(f"filter.{required['name']}.required=false")
    return list(dict.fromkeys(settings))


async def _run(
    cwd: Path, settings: Sequence[str], args: Sequence[str], timeout_s: float
) -> _Outcome:
    process = await asyncio.create_subprocess_exec(
        "git",
        *[flag for setting in settings for flag in ("-c", setting)],
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment(),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise HostGitError(f"git {args[0]} took longer than {timeout_s:.0f} s") from None
    return _Outcome(
        process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")
    )
