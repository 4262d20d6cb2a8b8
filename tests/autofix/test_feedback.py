"""What the model reads when a check fails: marked, errors first, trimmed to a budget."""

from __future__ import annotations

from boocode.autofix.feedback import (
    OUTPUT_BUDGET,
    failure_message,
    gave_up_message,
    passed_message,
    relevant_output,
)
from boocode.autofix.runner import CheckResult
from boocode.contracts.autofix import AutofixRunStatus


def _failed(output: str, status: AutofixRunStatus = AutofixRunStatus.FAILED) -> CheckResult:
    code = None if status is AutofixRunStatus.TIMED_OUT else 2
    return CheckResult(["pnpm", "run", "build"], status, code, 812.0, output)


def test_short_output_is_kept_whole_in_a_fence() -> None:
    message = failure_message(_failed("src/a.ts:3:7 - error TS2304: Cannot find name 'x'.\n"), 1, 3)

    assert message.startswith("Auto-fix: `pnpm run build` failed (exit 2) after your last change.")
    assert "Attempt 1 of 3" in message
    assert message.endswith("```\nsrc/a.ts:3:7 - error TS2304: Cannot find name 'x'.\n```")


def test_long_output_puts_the_errors_first_and_keeps_the_summary() -> None:
    noise = [f"  compiling module {n} of 4000" for n in range(4000)]
    noise[2500] = "src/deep/thing.ts:41:9 - error TS2322: Type 'string' is not assignable"
    noise.append("Found 1 error in src/deep/thing.ts:41")

    text = relevant_output("\n".join(noise))

    assert len(text) <= OUTPUT_BUDGET + 200
    lines = text.splitlines()
    assert lines[0] == "[… 2499 lines left out …]"
    assert lines[2] == "src/deep/thing.ts:41:9 - error TS2322: Type 'string' is not assignable"
    assert lines[-1] == "Found 1 error in src/deep/thing.ts:41"


def test_output_without_recognisable_errors_keeps_its_start_and_end() -> None:
    lines = [f"step {n}: ok" for n in range(3000)]

    text = relevant_output("\n".join(lines)).splitlines()

    assert text[0] == "step 0: ok"
    assert text[-1] == "step 2999: ok"
    assert any(line.startswith("[… ") and "lines left out" in line for line in text)


def test_colour_codes_are_removed() -> None:
    assert relevant_output("\x1b[31merror\x1b[0m: boom") == "error: boom"


def test_a_fence_in_the_output_does_not_end_the_message_early() -> None:
    message = failure_message(_failed("```\nnot the end\n```"), 1, 3)

    assert message.endswith("````\n```\nnot the end\n```\n````")


def test_a_timeout_and_giving_up_are_worded_for_what_happened() -> None:
    timed_out = _failed("still running…", AutofixRunStatus.TIMED_OUT)

    assert "`pnpm run build` timed out after your last change" in failure_message(timed_out, 2, 3)
    gave_up = gave_up_message(_failed("error: x"), 3)
    assert gave_up.startswith("Auto-fix: `pnpm run build` still fails (exit 2) after 3 attempts")
    assert "auto-fix stops and this turn ends" in gave_up


def test_passing_names_every_command() -> None:
    assert passed_message([["ruff", "check", "."]]) == "Auto-fix: `ruff check .` passes now."
    assert passed_message([["ruff", "check"], ["pytest", "-q"]]) == (
        "Auto-fix: `ruff check` and `pytest -q` pass now."
    )
