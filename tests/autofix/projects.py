"""Small real projects for the auto-fix tests, and a PATH that has the project's tools."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

# The test interpreter's bin directory holds ruff and pytest, as a project's .venv would.
TOOLS_BIN = str(Path(sys.executable).parent)


def path_with_tools() -> str:
    return f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def tools_env() -> dict[str, str]:
    """The environment of a `boocode` whose checks use this venv's ruff: on PATH, and shown
    read-only inside the command sandbox (the venv is outside the workspace)."""
    return {"PATH": path_with_tools(), "BOOCODE_SANDBOX_READ_ONLY": TOOLS_BIN}


def python_project(root: Path, *, autofix: str | None = None) -> Path:
    """A small Python package whose pyproject.toml configures ruff."""
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text("def double(x):\n    return 2 * x\n")
    pyproject = '[project]\nname = "pkg"\nversion = "0.1.0"\n\n[tool.ruff]\nline-length = 100\n'
    (root / "pyproject.toml").write_text(pyproject)
    if autofix is not None:
        (root / ".boocode").mkdir(exist_ok=True)
        (root / ".boocode" / "config.toml").write_text(f"[autofix]\n{autofix}\n")
    return root


def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read a `boocode` process's database directly, SQLite or PostgreSQL."""
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=10)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(database_url) as pg:
        return list(pg.execute(sql).fetchall())
