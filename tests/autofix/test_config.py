"""`[autofix]` in `.boocode/config.toml` overrides detection; the chat's switch overrides both."""

from __future__ import annotations

from pathlib import Path

import pytest

from autofix.projects import path_with_tools, python_project
from boocode.autofix import plan_for
from boocode.contracts.autofix import AutofixSource


@pytest.fixture(autouse=True)
def tools_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", path_with_tools())


def _configure(workspace: Path, table: str) -> None:
    (workspace / ".boocode").mkdir(exist_ok=True)
    (workspace / ".boocode" / "config.toml").write_text(table)


def test_without_config_the_detected_command_runs(project: Path) -> None:
    plan = plan_for(project, None)

    assert plan.enabled
    assert plan.commands == [["ruff", "check", "."]]
    assert plan.source is AutofixSource.DETECTED
    assert plan.reason == "pyproject.toml: ruff ([tool.ruff])"
    assert (plan.max_attempts, plan.timeout_s) == (3, 120.0)


def test_a_configured_command_overrides_detection(project: Path) -> None:
    _configure(
        project,
        '[autofix]\ncommand = ["python3", "-m", "compileall", "-q", "pkg"]\n'
        "max_attempts = 5\ntimeout_s = 30\n",
    )

    plan = plan_for(project, None)

    assert plan.commands == [["python3", "-m", "compileall", "-q", "pkg"]]
    assert plan.source is AutofixSource.CONFIG
    assert plan.reason == "`python3 -m compileall -q pkg`: set in .boocode/config.toml"
    assert (plan.max_attempts, plan.timeout_s) == (5, 30.0)


def test_several_configured_commands_run_in_order(project: Path) -> None:
    _configure(project, '[autofix]\ncommand = [["ruff", "check"], ["pytest", "-q"]]\n')

    plan = plan_for(project, None)

    assert plan.commands == [["ruff", "check"], ["pytest", "-q"]]
    assert plan.reason.startswith("`ruff check` then `pytest -q`")


def test_the_project_can_switch_it_off_and_a_chat_back_on(project: Path) -> None:
    _configure(project, "[autofix]\nenabled = false\n")

    off = plan_for(project, None)
    on_for_chat = plan_for(project, True)

    assert not off.enabled
    assert off.summary.startswith("switched off in .boocode/config.toml (enabled = false)")
    assert on_for_chat.enabled and on_for_chat.summary == "pyproject.toml: ruff ([tool.ruff])"


def test_a_chat_can_switch_it_off(project: Path) -> None:
    plan = plan_for(project, False)

    assert not plan.enabled
    assert plan.summary == "switched off for this chat; pyproject.toml: ruff ([tool.ruff])"


def test_a_chat_cannot_switch_on_what_has_no_command(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, True)

    assert not plan.enabled
    assert plan.source is AutofixSource.NONE
    assert plan.summary.startswith("nothing to run:")


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('[autofix]\ncommand = "ruff check"\n', "command: must be a program and its arguments"),
        ("[autofix]\ncommand = []\n", "command: must be a program and its arguments"),
        ('[autofix]\ncommand = [""]\n', "command: must be a program and its arguments"),
        ("[autofix]\nmax_attempts = 0\n", "max_attempts: Input should be greater than or equal"),
        ("[autofix]\ntimeout_s = 9000\n", "timeout_s: Input should be less than or equal to 600"),
        ("[autofix]\nenable = true\n", "enable: Extra inputs are not permitted"),
        ("autofix = 3\n", "[autofix] in .boocode/config.toml must be a table"),
        ("[autofix\n", "cannot read .boocode/config.toml"),
    ],
)
def test_an_invalid_config_switches_it_off_and_says_what_is_wrong(
    tmp_path: Path, table: str, problem: str
) -> None:
    project = python_project(tmp_path / "project")
    _configure(project, table)

    plan = plan_for(project, True)

    assert not plan.enabled
    assert plan.source is AutofixSource.NONE
    assert problem in plan.summary
