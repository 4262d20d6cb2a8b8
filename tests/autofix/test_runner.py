"""A check runs through the same guarded runner as `run_command`: real processes, bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boocode.autofix.runner import run_check
from boocode.contracts.autofix import AutofixRunStatus
from boocode.sandbox import Sandbox
from support.sandbox import confined


@pytest.fixture(params=["unsandboxed", "bubblewrap"])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Sandbox:
    """Every check test runs both ways: as the server's user, and inside bubblewrap."""
    if request.param == "unsandboxed":
        return Sandbox.unsandboxed(tmp_path)
    return confined(tmp_path)


async def test_a_passing_and_a_failing_check(tmp_path: Path, sandbox: Sandbox) -> None:
    (tmp_path / "good.py").write_text("x = 1\n")
    (tmp_path / "bad.py").write_text("x = (\n")

    good = await run_check(
        ["python3", "-m", "py_compile", "good.py"], tmp_path, 30, sandbox=sandbox
    )
    bad = await run_check(["python3", "-m", "py_compile", "bad.py"], tmp_path, 30, sandbox=sandbox)

    assert (good.status, good.exit_code) == (AutofixRunStatus.PASSED, 0)
    assert (bad.status, bad.exit_code) == (AutofixRunStatus.FAILED, 1)
    assert bad.failed and "SyntaxError" in bad.output and bad.duration_ms > 0


async def test_a_check_that_hangs_is_stopped_at_its_timeout(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    result = await run_check(
        ["python3", "-c", "import time; time.sleep(30)"], tmp_path, 0.3, sandbox=sandbox
    )

    assert result.status is AutofixRunStatus.TIMED_OUT
    assert result.failed and result.exit_code is None


async def test_a_missing_program_is_unavailable_not_a_failure(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    result = await run_check(["no-such-checker-xyz"], tmp_path, 5, sandbox=sandbox)

    assert result.status is AutofixRunStatus.UNAVAILABLE
    assert not result.failed
    assert result.output == "command not found: no-such-checker-xyz"


async def test_a_check_never_reads_outside_the_workspace(tmp_path: Path) -> None:
    workspace, outside = tmp_path / "project", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("SENTINEL")
    argv = ["cat", "../outside/secret.txt"]

    refused = await run_check(argv, workspace, 5, sandbox=Sandbox.unsandboxed(workspace))
    assert refused.status is AutofixRunStatus.UNAVAILABLE
    assert "outside the workspace" in refused.output

    # Confined, the argument is not inspected: the kernel shows no such file.
    hidden = await run_check(argv, workspace, 5, sandbox=confined(workspace))
    assert hidden.status is AutofixRunStatus.FAILED
    assert "No such file or directory" in hidden.output
    assert "SENTINEL" not in hidden.output


async def test_secrets_are_not_handed_to_the_check(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOCODE_API_KEY", "sk-very-secret")
    script = "import os; print(os.environ.get('BOOCODE_API_KEY', 'absent'))"

    result = await run_check(["python3", "-c", script], tmp_path, 10, sandbox=sandbox)

    assert result.output.strip() == "absent"
    assert os.environ["BOOCODE_API_KEY"] == "sk-very-secret"
