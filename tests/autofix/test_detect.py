"""Which command auto-fix picks for each kind of project, and the reason it gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boocode.autofix import detect

PROGRAMS = ("pnpm", "yarn", "npm", "bun", "cargo", "go", "make", "ruff", "pytest")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only the programs a test installs (as executables that exit 0)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in PROGRAMS:
        _install(bin_dir, name)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def _install(bin_dir: Path, name: str) -> None:
    program = bin_dir / name
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)


def _package_json(ws: Path, **extra: object) -> None:
    package = {"name": "web", "scripts": {"build": "vite build", "test": "vitest"}, **extra}
    (ws / "package.json").write_text(json.dumps(package))


@pytest.mark.parametrize(
    ("lock_file", "manager"),
    [
        ("pnpm-lock.yaml", "pnpm"),
        ("yarn.lock", "yarn"),
        ("package-lock.json", "npm"),
        ("bun.lockb", "bun"),
    ],
)
def test_package_json_build_runs_with_the_lock_files_package_manager(
    ws: Path, installed: Path, lock_file: str, manager: str
) -> None:
    _package_json(ws)
    (ws / lock_file).write_text("")

    found = detect(ws)

    assert found.commands == [[manager, "run", "build"]]
    assert found.reason == f"package.json build script, with {manager} for {lock_file}"


def test_package_json_without_a_lock_file_uses_its_package_manager_field_or_npm(
    ws: Path, installed: Path
) -> None:
    _package_json(ws, packageManager="yarn@4.1.0")
    assert detect(ws).commands == [["yarn", "run", "build"]]

    _package_json(ws)
    assert detect(ws).commands == [["npm", "run", "build"]]
    assert "npm (no lock file)" in detect(ws).reason


def test_package_json_without_a_build_script_is_passed_over(ws: Path, installed: Path) -> None:
    (ws / "package.json").write_text(json.dumps({"scripts": {"test": "vitest"}}))

    found = detect(ws)

    assert found.commands == []
    assert found.reason == "nothing to run: package.json has no build script"


def test_a_package_manager_that_is_not_installed_is_named(ws: Path, installed: Path) -> None:
    _package_json(ws)
    (ws / "pnpm-lock.yaml").write_text("")
    (installed / "pnpm").unlink()

    found = detect(ws)

    assert found.commands == []
    assert "pnpm is not installed" in found.reason


def test_pyproject_with_ruff_and_pytest_configured_runs_both(ws: Path, installed: Path) -> None:
    (ws / "pyproject.toml").write_text(
        "[tool.ruff]\nline-length = 100\n\n[tool.pytest.ini_options]\naddopts = '-q'\n"
    )

    found = detect(ws)

    assert found.commands == [["ruff", "check", "."], ["pytest", "-x", "-q"]]
    assert found.reason == (
        "pyproject.toml: ruff ([tool.ruff]) and pytest ([tool.pytest.ini_options])"
    )


def test_pyproject_with_a_tests_directory_runs_pytest(ws: Path, installed: Path) -> None:
    (ws / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    (ws / "tests").mkdir()

    found = detect(ws)

    assert found.commands == [["pytest", "-x", "-q"]]
    assert found.reason == "pyproject.toml: pytest (a tests/ directory)"


def test_pyproject_prefers_the_projects_own_venv(ws: Path, installed: Path) -> None:
    (ws / "pyproject.toml").write_text("[tool.ruff]\n")
    (ws / ".venv" / "bin").mkdir(parents=True)
    _install(ws / ".venv" / "bin", "ruff")

    assert detect(ws).commands == [[".venv/bin/ruff", "check", "."]]


def test_pyproject_without_ruff_or_pytest_is_off_with_the_reason(ws: Path, installed: Path) -> None:
    (ws / "pyproject.toml").write_text('[project]\nname = "pkg"\n')

    found = detect(ws)

    assert found.commands == []
    assert found.reason == "nothing to run: pyproject.toml configures neither ruff nor pytest"


def test_a_configured_but_missing_python_tool_is_named(ws: Path, installed: Path) -> None:
    (ws / "pyproject.toml").write_text("[tool.ruff]\n")
    (ws / "tests").mkdir()
    (installed / "ruff").unlink()

    found = detect(ws)

    assert found.commands == [["pytest", "-x", "-q"]]
    assert "ruff is configured ([tool.ruff]) but not installed" in found.reason


def test_cargo_toml_runs_cargo_check(ws: Path, installed: Path) -> None:
    (ws / "Cargo.toml").write_text('[package]\nname = "crate"\n')

    found = detect(ws)

    assert found.commands == [["cargo", "check", "--quiet"]]
    assert found.reason == "Cargo.toml: cargo check"


def test_go_mod_runs_go_build(ws: Path, installed: Path) -> None:
    (ws / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")

    found = detect(ws)

    assert found.commands == [["go", "build", "./..."]]
    assert found.reason == "go.mod: go build ./..."


@pytest.mark.parametrize(
    ("makefile", "command"),
    [
        ("all: build\n\nbuild: main.o\n\tcc -o app main.o\n", ["make", "build"]),
        ("CHECK_FLAGS := -q\n\ncheck:\n\tpytest $(CHECK_FLAGS)\n", ["make", "check"]),
        (".PHONY: lint check\nlint check:\n\truff check .\n", ["make", "check"]),
    ],
)
def test_makefile_with_a_build_or_check_target(
    ws: Path, installed: Path, makefile: str, command: list[str]
) -> None:
    (ws / "Makefile").write_text(makefile)

    found = detect(ws)

    assert found.commands == [command]
    assert found.reason == f"Makefile: {' '.join(command)}"


def test_makefile_variables_are_not_targets(ws: Path, installed: Path) -> None:
    (ws / "Makefile").write_text("build := out\ncheck = yes\n\nall:\n\techo $(build)\n")

    found = detect(ws)

    assert found.commands == []
    assert found.reason == "nothing to run: Makefile has no build or check target"


def test_an_empty_project_is_off_with_the_reason(ws: Path, installed: Path) -> None:
    found = detect(ws)

    assert found.commands == []
    assert found.reason.startswith("nothing to run: no package.json, Cargo.toml, go.mod")


def test_the_first_project_kind_that_fits_wins_and_the_others_leave_notes(
    ws: Path, installed: Path
) -> None:
    (ws / "package.json").write_text(json.dumps({"scripts": {}}))
    (ws / "Makefile").write_text("check:\n\ttrue\n")

    found = detect(ws)

    assert found.commands == [["make", "check"]]
    assert found.reason == "Makefile: make check"


def test_project_files_a_command_linked_outside_are_not_read(
    ws: Path, installed: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "package.json").write_text(json.dumps({"scripts": {"build": "leak"}}))
    (outside / "pyproject.toml").write_text("[tool.ruff]\n")
    (outside / "Makefile").write_text("check:\n\ttrue\n")
    for name in ("package.json", "pyproject.toml", "Makefile"):
        (ws / name).symlink_to(outside / name)
    (ws / "inside.mk").write_text("build:\n\ttrue\n")
    (ws / "GNUmakefile").symlink_to("inside.mk")  # a link that stays inside is followed

    with_inside_link = detect(ws)
    (ws / "GNUmakefile").unlink()
    outside_links_only = detect(ws)

    assert with_inside_link.commands == [["make", "build"]]
    assert with_inside_link.reason == "GNUmakefile: make build"
    assert outside_links_only.commands == []
    link = "goes through a symlink that points outside the workspace"
    for name in ("package.json", "pyproject.toml", "Makefile"):
        assert f"{name} cannot be read: path '{name}' {link}" in outside_links_only.reason
