"""Restore reads and writes workspace files the way the file tools do: beneath the workspace,
never through a hard link or a symlink swapped in after the check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boocode.sessions.workspace import Unreadable, WorkspaceFiles


def test_restore_never_writes_through_a_hard_link(tmp_path: Path) -> None:
    workspace, outside = tmp_path / "project", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("SENTINEL")
    os.link(outside / "secret.txt", workspace / "linked.txt")
    disk = WorkspaceFiles(workspace)

    with pytest.raises(Unreadable, match=r"linked\.txt has 2 hard links"):
        disk.read("linked.txt")
    with pytest.raises(Unreadable, match=r"linked\.txt has 2 hard links"):
        disk.write("linked.txt", "restored")

    assert (outside / "secret.txt").read_text() == "SENTINEL"


def test_restore_writes_creates_and_removes_inside(tmp_path: Path) -> None:
    disk = WorkspaceFiles(tmp_path)

    disk.write("new/dir/a.txt", "one\r\ntwo")
    assert disk.read("new/dir/a.txt") == "one\r\ntwo"
    disk.write("new/dir/a.txt", "short")
    assert (tmp_path / "new" / "dir" / "a.txt").read_bytes() == b"short"
    disk.remove("new/dir/a.txt")
    assert disk.read("new/dir/a.txt") is None
