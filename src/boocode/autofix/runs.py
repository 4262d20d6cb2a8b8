"""Auto-fix runs as trace rows (`kind` autofix): written when a check ends, read back for the page.

The row's input is `{"command", "attempt", "max_attempts"}`; its output starts with an
`exit code: N (D ms)` line like a `run_command` trace; its latency is the run's duration.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from boocode.autofix.runner import CheckResult, is_failure
from boocode.contracts.autofix import AutofixRun, AutofixRunStatus
from boocode.contracts.traces import TraceKind, TraceOutcome
from boocode.db.engine import Database
from boocode.db.tables import ToolTrace

TRACE_NAME = "autofix"
LISTED_RUNS = 50

_HEADER = re.compile(r"^exit code: (-?\d+)")
_OUTCOMES = {
    AutofixRunStatus.PASSED: TraceOutcome.OK,
    AutofixRunStatus.FAILED: TraceOutcome.ERROR,
    AutofixRunStatus.TIMED_OUT: TraceOutcome.TIMEOUT,
    AutofixRunStatus.UNAVAILABLE: TraceOutcome.ERROR,
}


def trace_input(command: list[str], attempt: int, max_attempts: int) -> dict[str, Any]:
    return {"command": command, "attempt": attempt, "max_attempts": max_attempts}


def trace_outcome(result: CheckResult) -> tuple[str, str | None]:
    """The trace outcome and error of a finished check."""
    if result.status is AutofixRunStatus.FAILED:
        error: str | None = f"exit code {result.exit_code}"
    elif result.status is AutofixRunStatus.TIMED_OUT:
        error = f"timed out after {result.duration_ms / 1000:.1f} s"
    elif result.status is AutofixRunStatus.UNAVAILABLE:
        error = f"could not start: {result.output}"
    else:
        error = None
    return _OUTCOMES[result.status].value, error


def trace_output(result: CheckResult) -> str:
    if result.status is AutofixRunStatus.UNAVAILABLE:
        return result.output
    code = "none" if result.exit_code is None else str(result.exit_code)
    return f"exit code: {code} ({result.duration_ms:.0f} ms)\n{result.output}"


async def latest_runs(db: Database, chat_id: str, limit: int = LISTED_RUNS) -> list[AutofixRun]:
    """The chat's latest auto-fix runs, oldest first."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ToolTrace)
                .where(ToolTrace.chat_id == chat_id, ToolTrace.kind == TraceKind.AUTOFIX.value)
                .order_by(ToolTrace.id.desc())
                .limit(limit)
            )
        ).scalars()
        return [run_from_trace(row) for row in reversed(list(rows))]


def run_from_trace(row: ToolTrace) -> AutofixRun:
    data = row.input if isinstance(row.input, dict) else {}
    attempt = int(data.get("attempt", 1))
    max_attempts = int(data.get("max_attempts", attempt))
    match = _HEADER.match(row.output or "")
    exit_code = int(match.group(1)) if match else None
    status = _status(TraceOutcome(row.outcome or TraceOutcome.RUNNING.value), exit_code)
    return AutofixRun(
        turn=row.turn_number,
        command=[str(part) for part in data.get("command", [])],
        status=status,
        attempt=attempt,
        max_attempts=max_attempts,
        exit_code=exit_code,
        duration_ms=row.latency_ms,
        gave_up=is_failure(status) and attempt > max_attempts,
        trace_id=row.id,
    )


def _status(outcome: TraceOutcome, exit_code: int | None) -> AutofixRunStatus:
    if outcome is TraceOutcome.OK:
        return AutofixRunStatus.PASSED
    if outcome is TraceOutcome.TIMEOUT:
        return AutofixRunStatus.TIMED_OUT
    if outcome is TraceOutcome.RUNNING:
        return AutofixRunStatus.RUNNING
    if outcome in (TraceOutcome.CANCELLED, TraceOutcome.INTERRUPTED):
        return AutofixRunStatus.CANCELLED
    return AutofixRunStatus.FAILED if exit_code is not None else AutofixRunStatus.UNAVAILABLE
