"""Workspaces for the tool tests: a real directory, and a sentinel file just outside it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from boocode.tools import PathGuard

SENTINEL_TEXT = "SENTINEL: outside the workspace\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    """A directory next to the workspace holding `secret.txt`, which no tool may touch.

    Every test that uses it also checks, on teardown, that nothing in it changed.
    """
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text(SENTINEL_TEXT)
    yield path
    assert sorted(child.name for child in path.iterdir()) == ["secret.txt"]
    assert (path / "secret.txt").read_text() == SENTINEL_TEXT


@pytest.fixture
def guard(workspace: Path) -> PathGuard:
    return PathGuard(workspace)
