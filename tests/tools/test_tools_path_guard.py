from pathlib import Path

import pytest

from boocode.tools import PathGuard, ToolError


def test_relative_paths_resolve_inside_the_workspace(guard: PathGuard, workspace: Path) -> None:
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("")

    assert guard.resolve("src/app.py") == workspace.resolve() / "src" / "app.py"
    assert guard.resolve("src/../src/./app.py") == workspace.resolve() / "src" / "app.py"
    assert guard.resolve("not/yet/there.txt") == workspace.resolve() / "not/yet/there.txt"


@pytest.mark.parametrize("path", ["", ".", "./", "src/.."])
def test_empty_and_dot_paths_are_the_workspace_root(guard: PathGuard, path: str) -> None:
    assert guard.resolve(path) == guard.workspace


@pytest.mark.parametrize("path", ["..", "../outside/secret.txt", "a/../../outside", "a/b/../../.."])
def test_dotdot_escapes_are_refused(guard: PathGuard, path: str) -> None:
    with pytest.raises(ToolError, match="is outside the workspace"):
        guard.resolve(path)


def test_absolute_paths_outside_are_refused(guard: PathGuard, outside: Path) -> None:
    for path in ["/etc/passwd", "/", str(outside / "secret.txt")]:
        with pytest.raises(ToolError, match="outside the workspace"):
            guard.resolve(path)


def test_absolute_paths_inside_are_accepted(guard: PathGuard, workspace: Path) -> None:
    assert guard.resolve(str(workspace / "a.txt")) == workspace.resolve() / "a.txt"


def test_file_symlink_pointing_out_is_refused(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "link.txt").symlink_to(outside / "secret.txt")

    with pytest.raises(ToolError, match="symlink that points outside"):
        guard.resolve("link.txt")


def test_directory_symlink_pointing_out_is_refused_for_anything_below_it(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "linked").symlink_to(outside, target_is_directory=True)

    for path in ["linked", "linked/secret.txt", "linked/new-file.txt", "linked/a/b/c.txt"]:
        with pytest.raises(ToolError, match="symlink"):
            guard.resolve(path)


def test_symlink_chain_is_followed_to_its_end(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "real.txt").write_text("inside")
    (workspace / "hop2").symlink_to(workspace / "real.txt")
    (workspace / "hop1").symlink_to("hop2")
    (workspace / "out2").symlink_to(outside / "secret.txt")
    (workspace / "out1").symlink_to("out2")

    assert guard.resolve("hop1") == workspace.resolve() / "real.txt"
    with pytest.raises(ToolError, match="symlink"):
        guard.resolve("out1")


def test_dangling_symlink_pointing_out_is_refused(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "dangling").symlink_to(outside / "does-not-exist-yet.txt")

    with pytest.raises(ToolError, match="symlink"):
        guard.resolve("dangling")


def test_symlinked_workspace_is_resolved_once(tmp_path: Path, workspace: Path) -> None:
    (tmp_path / "alias").symlink_to(workspace, target_is_directory=True)

    guard = PathGuard(tmp_path / "alias")

    assert guard.workspace == workspace.resolve()
    assert guard.resolve(str(tmp_path / "alias" / "a.txt")) == workspace.resolve() / "a.txt"


@pytest.mark.parametrize("path", ["~", "~/.ssh/id_rsa", "~root/.bashrc"])
def test_tilde_paths_are_refused(guard: PathGuard, path: str) -> None:
    with pytest.raises(ToolError, match="starts with '~'"):
        guard.resolve(path)


def test_nul_bytes_are_refused(guard: PathGuard) -> None:
    with pytest.raises(ToolError, match="NUL"):
        guard.resolve("a.txt\x00../../etc/passwd")


def test_over_long_paths_are_refused(guard: PathGuard) -> None:
    with pytest.raises(ToolError, match=r"component .* is too long"):
        guard.resolve("a" * 256)
    with pytest.raises(ToolError, match="path is too long"):
        guard.resolve("ab/" * 1366)

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
