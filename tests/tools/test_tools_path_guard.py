from pathlib import Path

import pytest

from boocode.tools import PathGuard, ToolError
from support.hostile_paths import HOSTILE_PATHS, HostilePath, plant_links


def test_relative_paths_resolve_inside_the_workspace(guard: PathGuard, workspace: Path) -> None:
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("")

    assert guard.resolve("src/app.py") == workspace.resolve() / "src" / "app.py"
    assert guard.resolve("src/../src/./app.py") == workspace.resolve() / "src" / "app.py"
    assert guard.resolve("not/yet/there.txt") == workspace.resolve() / "not/yet/there.txt"


@pytest.mark.parametrize("path", ["", ".", "./", "src/.."])
def test_empty_and_dot_paths_are_the_workspace_root(guard: PathGuard, path: str) -> None:
    assert guard.resolve(path) == guard.workspace


@pytest.mark.parametrize("hostile", HOSTILE_PATHS, ids=lambda h: repr(h.path)[:40])
def test_every_hostile_path_is_refused(
    guard: PathGuard, workspace: Path, outside: Path, hostile: HostilePath
) -> None:
    plant_links(workspace, outside)

    with pytest.raises(ToolError, match=hostile.refusal):
        guard.resolve(hostile.spelled(outside))


def test_absolute_paths_inside_are_accepted(guard: PathGuard, workspace: Path) -> None:
    assert guard.resolve(str(workspace / "a.txt")) == workspace.resolve() / "a.txt"


def test_a_symlink_chain_inside_is_followed_to_its_end(guard: PathGuard, workspace: Path) -> None:
    (workspace / "real.txt").write_text("inside")
    (workspace / "hop2").symlink_to(workspace / "real.txt")
    (workspace / "hop1").symlink_to("hop2")

    assert guard.resolve("hop1") == workspace.resolve() / "real.txt"


def test_symlinked_workspace_is_resolved_once(tmp_path: Path, workspace: Path) -> None:
    (tmp_path / "alias").symlink_to(workspace, target_is_directory=True)

    guard = PathGuard(tmp_path / "alias")

    assert guard.workspace == workspace.resolve()
    assert guard.resolve(str(tmp_path / "alias" / "a.txt")) == workspace.resolve() / "a.txt"


def test_the_longest_name_a_component_may_have_is_accepted(guard: PathGuard) -> None:
    assert guard.resolve("a" * 255).name == "a" * 255


def test_is_inside_never_raises(guard: PathGuard, workspace: Path, outside: Path) -> None:
    (workspace / "out").symlink_to(outside, target_is_directory=True)

    assert guard.is_inside("a/b.txt")
    assert guard.is_inside(workspace / "a")
    assert not guard.is_inside("../x")
    assert not guard.is_inside("out/secret.txt")
    assert not guard.is_inside(outside)
    assert not guard.is_inside("bad\x00name")


def test_relative_gives_posix_display_paths(guard: PathGuard) -> None:
    assert guard.relative(guard.resolve("a/b/c.txt")) == "a/b/c.txt"
    assert guard.relative(guard.workspace) == "."
    with pytest.raises(ToolError):
        guard.relative(Path("/etc/passwd"))


def test_workspace_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a directory"):
        PathGuard(tmp_path / "missing")
