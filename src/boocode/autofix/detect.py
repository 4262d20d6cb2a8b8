"""A sensible check command for a project that configures none, and the reason it was chosen.

Projects are probed in a fixed order (package.json, Cargo.toml, go.mod, pyproject.toml,
Makefile); the first that yields a command whose program is installed wins. Each probe that
finds its file but no usable command leaves a note, so "off" always says why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boocode.tools.textfile import read_beneath

Argv = list[str]

# Lock file → package manager, in the order they are looked for.
LOCK_FILES = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("package-lock.json", "npm"),
    ("bun.lockb", "bun"),
    ("bun.lock", "bun"),
)
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
MAKE_TARGETS = ("build", "check")
# A rule line `target:` (but not the assignment `target := value`).
_RULE = r"^(?:[^:#=\s]+\s+)*{target}(?:\s+[^:#=\s]+)*\s*::?(?!=)"


@dataclass(frozen=True)
class Detection:
    commands: list[Argv]
    reason: str


def detect(workspace: Path) -> Detection:
    """The project's check commands, or none with every probe's reason for passing."""
    notes: list[str] = []
    for probe in _PROBES:
        outcome = probe(workspace)
        if isinstance(outcome, Detection):
            return outcome
        if outcome:
            notes.append(outcome)
    if not notes:
        notes.append(
            "no package.json, Cargo.toml, go.mod, pyproject.toml or Makefile in the workspace"
        )
    return Detection([], "nothing to run: " + "; ".join(notes))


def _node(workspace: Path) -> Detection | str | None:
    try:
        if (text := _project_file(workspace, "package.json")) is None:
            return None
        package = json.loads(text)
    except OSError as exc:
        return f"package.json cannot be read: {exc}"
    except ValueError:
        return "package.json is not valid JSON"
    scripts = package.get("scripts") if isinstance(package, dict) else None
    if not isinstance(scripts, dict) or not isinstance(scripts.get("build"), str):
        return "package.json has no build script"
    manager, why = _package_manager(workspace, package)
    if _program(workspace, manager) is None:
        return f"package.json has a build script ({why}), but {manager} is not installed"
    return Detection([[manager, "run", "build"]], f"package.json build script, with {why}")


def _package_manager(workspace: Path, package: dict[str, Any]) -> tuple[str, str]:
    for name, manager in LOCK_FILES:
        if (workspace / name).is_file():
            return manager, f"{manager} for {name}"
    declared = package.get("packageManager")
    if isinstance(declared, str) and declared.split("@")[0] in {"pnpm", "yarn", "npm", "bun"}:
        manager = declared.split("@")[0]
        return manager, f'{manager} for "packageManager" in package.json'
    return "npm", "npm (no lock file)"


def _rust(workspace: Path) -> Detection | str | None:
    if not (workspace / "Cargo.toml").is_file():
        return None
    if _program(workspace, "cargo") is None:
        return "Cargo.toml found, but cargo is not installed"
    return Detection([["cargo", "check", "--quiet"]], "Cargo.toml: cargo check")


def _go(workspace: Path) -> Detection | str | None:
    if not (workspace / "go.mod").is_file():
        return None
    if _program(workspace, "go") is None:
        return "go.mod found, but go is not installed"
    return Detection([["go", "build", "./..."]], "go.mod: go build ./...")


def _python(workspace: Path) -> Detection | str | None:
    try:
        if (text := _project_file(workspace, "pyproject.toml")) is None:
            return None
        tool = tomllib.loads(text).get("tool", {})
    except OSError as exc:
        return f"pyproject.toml cannot be read: {exc}"
    except ValueError:
        return "pyproject.toml is not valid TOML"
    tool = tool if isinstance(tool, dict) else {}
    commands: list[Argv] = []
    found: list[str] = []
    missing: list[str] = []
    for name, why, argv in (
        ("ruff", _ruff_configured(workspace, tool), ["check", "."]),
        ("pytest", _pytest_configured(workspace, tool), ["-x", "-q"]),
    ):
        if why is None:
            continue
        program = _program(workspace, name)
        if program is None:
            missing.append(f"{name} is configured ({why}) but not installed")
            continue
        commands.append([program, *argv])
        found.append(f"{name} ({why})")
    if commands:
        reason = "pyproject.toml: " + " and ".join(found)
        return Detection(commands, "; ".join([reason, *missing]))
    if missing:
        return "pyproject.toml: " + "; ".join(missing)
    return "pyproject.toml configures neither ruff nor pytest"


def _ruff_configured(workspace: Path, tool: dict[str, Any]) -> str | None:
    if "ruff" in tool:
        return "[tool.ruff]"
    for name in ("ruff.toml", ".ruff.toml"):
        if (workspace / name).is_file():
            return name
    return None


def _pytest_configured(workspace: Path, tool: dict[str, Any]) -> str | None:
    pytest = tool.get("pytest")
    if isinstance(pytest, dict) and "ini_options" in pytest:
        return "[tool.pytest.ini_options]"
    if (workspace / "pytest.ini").is_file():
        return "pytest.ini"
    if (workspace / "tests").is_dir():
        return "a tests/ directory"
    return None


def _make(workspace: Path) -> Detection | str | None:
    path = next((workspace / name for name in MAKEFILES if _present(workspace / name)), None)
    if path is None:
        return None
    try:
        text = read_beneath(workspace, path, errors="replace")
    except OSError as exc:
        return f"{path.name} cannot be read: {exc}"
    target = next(
        (t for t in MAKE_TARGETS if re.search(_RULE.format(target=t), text, re.MULTILINE)), None
    )
    if target is None:
        return f"{path.name} has no build or check target"
    if _program(workspace, "make") is None:
        return f"{path.name} has a {target} target, but make is not installed"
    return Detection([["make", target]], f"{path.name}: make {target}")


def _project_file(workspace: Path, name: str) -> str | None:
    """The text of the project's file `name`, None when it has none. A command may have made it
    a link to a file outside: it is read beneath the workspace, so that is refused
    (PermissionError), never followed. Raises OSError or UnicodeDecodeError."""
    path = workspace / name
    return read_beneath(workspace, path) if _present(path) else None


def _present(path: Path) -> bool:
    """A file, or a link (read beneath the workspace, a link leading outside is refused)."""
    return path.is_symlink() or path.is_file()


def _program(workspace: Path, name: str) -> str | None:
    """How to call `name`: from the project's `.venv` when it has one there, else from PATH."""
    local = workspace / ".venv" / "bin" / name
    if local.is_file() and os.access(local, os.X_OK):
        return f".venv/bin/{name}"
    return name if shutil.which(name) else None


_PROBES: tuple[Callable[[Path], Detection | str | None], ...] = (
    _node,
    _rust,
    _go,
    _python,
    _make,
)
