"""What a confined command can reach, exactly as docs/tools.md lists it."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from boocode.tools import PathGuard, ToolError
from boocode.tools.run_command import CommandResult, run_argv
from support.sandbox import confined


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("SENTINEL")
    return path


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port listening on the host's loopback."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


async def _sh(workspace: Path, script: str, **policy: object) -> CommandResult:
    sandbox = confined(workspace, **policy)
    guard = PathGuard(workspace)
    return await run_argv(["sh", "-c", script], cwd=workspace, guard=guard, sandbox=sandbox)


async def test_the_workspace_is_writable_and_the_system_read_only(
    workspace: Path, outside: Path
) -> None:
    result = await _sh(
        workspace,
        f"echo made > made.txt; touch /usr/x /etc/x 2>&1; ls {outside} 2>&1; cat /etc/shadow",
    )

    assert result.sandboxed
    assert (workspace / "made.txt").read_text() == "made\n"
    assert result.output.count("Read-only file system") == 2
    assert "No such file or directory" in result.output and "SENTINEL" not in result.output
    assert "root:" not in result.output  # /etc/shadow is covered by /dev/null


async def test_home_and_tmp_are_empty_and_private(workspace: Path, tmp_path: Path) -> None:
    name = f"private-{tmp_path.name}"

    result = await _sh(
        workspace, f'echo $HOME; ls -A "$HOME" /tmp; touch /tmp/{name} "$HOME/x"; ls /root 2>&1'
    )

    lines = result.output.splitlines()
    assert lines[0] == "/home/sandbox"
    assert lines[1].startswith("/home/sandbox:") or lines[1] == ""
    assert "No such file or directory" in result.output  # /root, the real home, is not there
    assert not (Path("/tmp") / name).exists()


async def test_the_data_dir_and_the_project_config_are_out_of_reach(workspace: Path) -> None:
    data = workspace / ".data"
    data.mkdir()
    (data / "token").write_text("secret-token")
    (workspace / ".boocode").mkdir()
    (workspace / ".boocode" / "config.toml").write_text('[sandbox]\nmode = "required"\n')
    sandbox = dataclasses.replace(confined(workspace), hidden=(data,))

    result = await run_argv(
        ["sh", "-c", "ls -A .data; echo 'mode = \"off\"' >> .boocode/config.toml"],
        cwd=workspace,
        guard=PathGuard(workspace),
        sandbox=sandbox,
    )

    assert "token" not in result.output
    assert "Read-only file system" in result.output
    assert (workspace / ".boocode" / "config.toml").read_text() == '[sandbox]\nmode = "required"\n'


async def test_extra_read_only_directories(workspace: Path, outside: Path) -> None:
    result = await _sh(
        workspace, f"cat {outside}/secret.txt; touch {outside}/x", read_only=(outside,)
    )

    assert result.output.startswith("SENTINEL")
    assert "Read-only file system" in result.output
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)\n"
    "    print('connected')\n"
    "except OSError as exc:\n"
    "    print('refused', exc)\n"
)


async def test_the_network_is_off_unless_allowed(workspace: Path, listener: int) -> None:
    guard = PathGuard(workspace)
    argv = ["python3", "-c", CONNECT, str(listener)]

    cut = await run_argv(argv, cwd=workspace, guard=guard, sandbox=confined(workspace))
    shared = await run_argv(
        argv, cwd=workspace, guard=guard, sandbox=confined(workspace, network=True)
    )

    assert cut.output.startswith("refused")
    assert shared.output == "connected\n"


async def test_a_program_the_sandbox_cannot_see_is_a_clear_error(workspace: Path) -> None:
    sandbox = confined(workspace)
    guard = PathGuard(workspace)

    # This venv's python lives outside the workspace and the system directories.
    with pytest.raises(ToolError, match="outside what a sandboxed command can see"):
        await run_argv([sys.executable, "-V"], cwd=workspace, guard=guard, sandbox=sandbox)
    with pytest.raises(ToolError, match=r"^command not found: no-such-program-xyz$"):
        await run_argv(["no-such-program-xyz"], cwd=workspace, guard=guard, sandbox=sandbox)
    (workspace / "tool.sh").write_text("#!/bin/sh\necho from the workspace\n")
    (workspace / "tool.sh").chmod(0o755)
    result = await run_argv(["./tool.sh"], cwd=workspace, guard=guard, sandbox=sandbox)
    assert result.output == "from the workspace\n"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """A worktree made the way a subagent's is: `<repo>/.boocode/worktrees/wt`."""
    top = tmp_path / "repo"
    top.mkdir()
    (top / "README.md").write_text("repo\n")
    _git(top, "init", "-q", "-b", "main")
    _git(top, "add", "-A")
    _git(top, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    tree = top / ".boocode" / "worktrees" / "wt"
    _git(top, "worktree", "add", "-q", "-b", "boocode/wt", str(tree))
    return tree


@pytest.fixture
def outside_repository(outside: Path) -> Path:
    _git(outside, "init", "-q")
    (outside / ".git" / "secret.txt").write_text("SENTINEL")
    return outside / ".git"


async def test_a_worktree_sees_its_repository_only_while_its_pointers_name_it(
    worktree: Path, outside_repository: Path
) -> None:
    top_git = worktree.parents[2] / ".git"
    commit = "git -c user.name=a -c user.email=a@a commit -q --allow-empty -m x && echo committed"

    works = await _sh(worktree, f"git status --short && {commit}")
    # What a command in the tree the worktree was made from can write: the entry's commondir.
    (top_git / "worktrees" / "wt" / "commondir").write_text(f"{outside_repository}\n")
    tampered = await _sh(
        worktree, f"cat {outside_repository}/secret.txt; ls {top_git}; echo x > .git; {commit}"
    )

    assert works.output.endswith("committed\n"), works.output
    assert "SENTINEL" not in tampered.output and "committed" not in tampered.output
    assert tampered.output.count("No such file or directory") == 2, tampered.output
    assert "Read-only file system" in tampered.output


async def test_a_git_file_naming_a_real_worktree_entry_opens_nothing(
    workspace: Path, worktree: Path
) -> None:
    top_git = worktree.parents[2] / ".git"
    (workspace / ".git").write_text(f"gitdir: {top_git}/worktrees/wt\n")

    result = await _sh(workspace, f"ls {top_git}; git status")

    assert "No such file or directory" in result.output
    assert "not a git repository" in result.output


async def test_a_read_only_directory_swapped_for_a_symlink_is_not_followed(
    workspace: Path, outside: Path, tmp_path: Path
) -> None:
    # The listed directory leads into the workspace, where a command can replace it.
    (workspace / "toolchain").mkdir()
    (workspace / "toolchain" / "tool").write_text("the tool\n")
    listed = tmp_path / "toolchain"
    listed.symlink_to(workspace / "toolchain")
    sandbox = confined(workspace, read_only=(listed,))
    guard = PathGuard(workspace)

    async def sh(script: str) -> str:
        return (
            await run_argv(["sh", "-c", script], cwd=workspace, guard=guard, sandbox=sandbox)
        ).output

    before = await sh(f"cat {listed}/tool")
    await sh(f"rm -r toolchain && ln -s {outside} toolchain")
    after = await sh(f"cat {listed}/secret.txt {listed}/tool")

    assert before == "the tool\n"
    assert "SENTINEL" not in after and after.count("No such file or directory") == 2, after
