"""A check runs through the same guarded runner as `run_command`: real processes, bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boocode.autofix.runner import run_check
from boocode.contracts.autofix import AutofixRunStatus


async def test_a_passing_and_a_failing_check(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text("x = 1\n")
    (tmp_path / "bad.py").write_text("x = (\n")

    good = await run_check(["python3", "-m", "py_compile", "good.py"], tmp_path, 30)
    bad = await run_check(["python3", "-m", "py_compile", "bad.py"], tmp_path, 30)

    assert (good.status, good.exit_code) == (AutofixRunStatus.PASSED, 0)
    assert (bad.status, bad.exit_code) == (AutofixRunStatus.FAILED, 1)
    assert bad.failed and "SyntaxError" in bad.output and bad.duration_ms > 0


async def test_a_check_that_hangs_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    result = await run_check(["python3", "-c", "import time; time.sleep(30)"], tmp_path, 0.3)

    assert result.status is AutofixRunStatus.TIMED_OUT
    assert result.failed and result.exit_code is None


async def test_a_missing_program_is_unavailable_not_a_failure(tmp_path: Path) -> None:
    result = await run_check(["no-such-checker-xyz"], tmp_path, 5)

    assert result.status is AutofixRunStatus.UNAVAILABLE
    assert not result.failed
    assert result.output == "command not found: no-such-checker-xyz"


async def test_arguments_outside_the_workspace_are_refused(tmp_path: Path) -> None:
    result = await run_check(["cat", "../../etc/passwd"], tmp_path, 5)

    assert result.status is AutofixRunStatus.UNAVAILABLE
    assert "outside the workspace" in result.output


async def test_secrets_are_not_handed_to_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOCODE_API_KEY", "sk-very-secret")
    script = "import os; print(os.environ.get('BOOCODE_API_KEY', 'absent'))"

    result = await run_check(["python3", "-c", script], tmp_path, 10)

    assert result.output.strip() == "absent"
    assert os.environ["BOOCODE_API_KEY"] == "sk-very-secret"
