"""Runs one check command through the same guarded runner as the `run_command` tool.

No shell, a time limit, output capped at 32 KB, the workspace's sandbox and its allow-listed
environment: a check is held to exactly the rules a model's command is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from boocode.contracts.autofix import AutofixRunStatus
from boocode.sandbox import Sandbox
from boocode.tools import PathGuard, ToolError
from boocode.tools.run_command import run_argv


@dataclass(frozen=True)
class CheckResult:
    command: list[str]
    status: AutofixRunStatus
    exit_code: int | None
    duration_ms: float
    output: str
    """The command's output; for an unavailable command, why it could not start."""

    @property
    def failed(self) -> bool:
        return is_failure(self.status)


def is_failure(status: AutofixRunStatus) -> bool:
    """A failure the model can act on (not a command that never started)."""
    return status in (AutofixRunStatus.FAILED, AutofixRunStatus.TIMED_OUT)


async def run_check(
    command: list[str], workspace: Path, timeout_s: float, *, sandbox: Sandbox
) -> CheckResult:
    """Run `command` at the workspace root; never raises for a command that cannot start."""
    guard = PathGuard(workspace)
    try:
        result = await run_argv(
            command, cwd=guard.workspace, guard=guard, sandbox=sandbox, timeout_s=timeout_s
        )
    except ToolError as exc:
        return CheckResult(command, AutofixRunStatus.UNAVAILABLE, None, 0.0, str(exc))
    if result.timed_out:
        status = AutofixRunStatus.TIMED_OUT
    elif result.exit_code == 0:
        status = AutofixRunStatus.PASSED
    else:
        status = AutofixRunStatus.FAILED
    return CheckResult(command, status, result.exit_code, result.duration_ms, result.output)
