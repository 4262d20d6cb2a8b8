"""The messages auto-fix appends for the model: errors first, trimmed to what helps.

Every message starts with `Auto-fix:` so the model, the user and the page can tell it from a
message the user typed.
"""

from __future__ import annotations

import re
import shlex

from boocode.autofix.runner import CheckResult
from boocode.contracts.autofix import AutofixRunStatus

PREFIX = "Auto-fix:"
# Enough for a screenful of compiler or linter errors; the trace keeps the whole output.
OUTPUT_BUDGET = 6000
_CONTEXT_BEFORE = 1
_CONTEXT_AFTER = 4
_TAIL_LINES = 15
_MAX_LINE = 500

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_ERROR_LINE = re.compile(
    r"\b(error|errors|fatal|failed|failure|exception|traceback|invalid)\b"
    r"|^E\s"
    r"|[\w./-]+\.\w+:\d+(:\d+)?",
    re.IGNORECASE,
)


def shown(command: list[str]) -> str:
    return f"`{shlex.join(command)}`"


def failure_message(result: CheckResult, attempt: int, max_attempts: int) -> str:
    return (
        f"{PREFIX} {shown(result.command)} {_what_happened(result)} after your last change. "
        f"Attempt {attempt} of {max_attempts}: fix the errors below; the check runs again "
        f"after your next file change.\n\n{_fenced(relevant_output(result.output))}"
    )


def gave_up_message(result: CheckResult, max_attempts: int) -> str:
    return (
        f"{PREFIX} {shown(result.command)} still {_what_happened(result, present=True)} after "
        f"{max_attempts} attempt{'s' if max_attempts != 1 else ''}, so auto-fix stops and this "
        f"turn ends. Errors left:\n\n{_fenced(relevant_output(result.output))}"
    )


def passed_message(commands: list[list[str]]) -> str:
    names = " and ".join(shown(command) for command in commands)
    return f"{PREFIX} {names} {'passes' if len(commands) == 1 else 'pass'} now."


def turn_error(result: CheckResult, max_attempts: int) -> str:
    """The turn's error when auto-fix gives up: short, for the status line."""
    return (
        f"auto-fix gave up: {shown(result.command)} still "
        f"{_what_happened(result, present=True)} after {max_attempts} attempt"
        f"{'s' if max_attempts != 1 else ''}"
    )


def relevant_output(output: str, budget: int = OUTPUT_BUDGET) -> str:
    """The output whole if it fits; else the error lines with context, then the last lines."""
    text = _ANSI.sub("", output).strip()
    if len(text) <= budget:
        return text or "(no output)"
    lines = [line[:_MAX_LINE] for line in text.splitlines()]
    tail_start = max(0, len(lines) - _TAIL_LINES)
    wanted: set[int] = set()
    for index, line in enumerate(lines[:tail_start]):
        if _ERROR_LINE.search(line):
            wanted.update(range(index - _CONTEXT_BEFORE, index + _CONTEXT_AFTER + 1))
    errors = sorted(i for i in wanted if 0 <= i < tail_start)
    if errors:
        head = _fit(lines, errors, budget * 2 // 3)
    else:  # no recognisable error lines: the start often names the first failure
        head = _fit(lines, list(range(tail_start)), budget // 3)
    tail_budget = budget - _size(lines, head)
    tail = _fit(lines, list(range(len(lines) - 1, tail_start - 1, -1)), tail_budget)[::-1]
    kept = head + tail
    parts: list[str] = []
    previous = -1
    for index in kept:
        if index != previous + 1:
            parts.append(f"[… {index - previous - 1} lines left out …]")
        parts.append(lines[index])
        previous = index
    if previous != len(lines) - 1:
        parts.append(f"[… {len(lines) - 1 - previous} lines left out …]")
    return "\n".join(parts)


def _fit(lines: list[str], indexes: list[int], budget: int) -> list[int]:
    """The leading `indexes` whose lines fit in `budget` characters."""
    kept: list[int] = []
    used = 0
    for index in indexes:
        used += len(lines[index]) + 1
        if used > budget:
            break
        kept.append(index)
    return kept


def _size(lines: list[str], indexes: list[int]) -> int:
    return sum(len(lines[index]) + 1 for index in indexes)


def _what_happened(result: CheckResult, *, present: bool = False) -> str:
    if result.status is AutofixRunStatus.TIMED_OUT:
        return "times out" if present else "timed out"
    return f"{'fails' if present else 'failed'} (exit {result.exit_code})"


def _fenced(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text}\n{fence}"
