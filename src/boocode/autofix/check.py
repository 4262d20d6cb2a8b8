"""The check after a write: run the project's commands, trace and announce each run, and say
what the model should read next.

The turn loop owns the conversation: it appends `CheckVerdict.message` and ends the turn when
`gave_up` is set. State across a turn (`failures`, `failing`) travels in the verdict, so a
resumed turn rebuilds it from its recorded steps.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import BaseModel

from boocode.agent import runtime
from boocode.autofix import feedback, runs
from boocode.autofix.config import AutofixPlan, plan_for
from boocode.autofix.runner import CheckResult, run_check
from boocode.contracts.autofix import AutofixFrame, AutofixRun, AutofixRunStatus
from boocode.db.tables import Chat
from boocode.sandbox import sandbox_for


class CheckVerdict(BaseModel):
    """What one check after a write found, and the turn's auto-fix state after it."""

    ran: bool = False
    failures: int = 0
    """Failing checks so far in this turn."""
    failing: bool = False
    """Whether the latest check in this turn failed."""
    message: str | None = None
    """To append to the conversation for the model's next call."""
    gave_up: bool = False
    cancelled: bool = False
    error: str | None = None
    """The turn's error when auto-fix gave up."""


async def check_after_write(
    chat: Chat, before: CheckVerdict, *, task_id: str, turn: int, step_key: str
) -> CheckVerdict:
    """Run the chat's check commands in order, stopping at the first failure.

    `before` is the verdict of the turn's previous check (a blank one for the first).
    """
    plan = plan_for(Path(chat.workspace), chat.autofix)
    if not plan.enabled:
        return CheckVerdict(failures=before.failures, failing=before.failing)
    attempt = before.failures + 1
    for index, command in enumerate(plan.commands):
        result = await _traced_run(
            chat, plan, command, task_id, turn, f"{step_key}-{index}", attempt
        )
        if result.failed:
            break
    else:
        message = feedback.passed_message(plan.commands) if before.failing else None
        return CheckVerdict(ran=True, failures=before.failures, message=message)
    if attempt > plan.max_attempts:
        return CheckVerdict(
            ran=True,
            failures=attempt,
            failing=True,
            message=feedback.gave_up_message(result, plan.max_attempts),
            gave_up=True,
            error=feedback.turn_error(result, plan.max_attempts),
        )
    return CheckVerdict(
        ran=True,
        failures=attempt,
        failing=True,
        message=feedback.failure_message(result, attempt, plan.max_attempts),
    )


async def _traced_run(
    chat: Chat,
    plan: AutofixPlan,
    command: list[str],
    task_id: str,
    turn: int,
    step_key: str,
    attempt: int,
) -> CheckResult:
    """One command: an `autofix` frame when it starts and ends, a trace row around it."""
    rt = runtime.current()
    run = AutofixRun(
        turn=turn,
        command=command,
        status=AutofixRunStatus.RUNNING,
        attempt=attempt,
        max_attempts=plan.max_attempts,
    )
    await rt.events.publish(AutofixFrame(chat_id=chat.id, run=run))
    try:
        async with rt.tracer.span(
            chat_id=chat.id,
            turn=turn,
            kind="autofix",
            name=runs.TRACE_NAME,
            input=runs.trace_input(command, attempt, plan.max_attempts),
            session_id=task_id,
            step_key=step_key,
        ) as span:
            workspace = Path(chat.workspace)
            sandbox = sandbox_for(rt.settings, workspace)
            result = await run_check(command, workspace, plan.timeout_s, sandbox=sandbox)
            span.output = runs.trace_output(result)
            span.outcome, span.error = runs.trace_outcome(result)
    except asyncio.CancelledError:
        cancelled = run.model_copy(update={"status": AutofixRunStatus.CANCELLED})
        await asyncio.shield(rt.events.publish(AutofixFrame(chat_id=chat.id, run=cancelled)))
        raise
    finished = run.model_copy(
        update={
            "status": result.status,
            "exit_code": result.exit_code,
            "duration_ms": result.duration_ms,
            "gave_up": result.failed and attempt > plan.max_attempts,
            "trace_id": span.trace_id,
        }
    )
    await rt.events.publish(AutofixFrame(chat_id=chat.id, run=finished))
    return result
