import asyncio
import shutil
import sys
import time
from pathlib import Path

import pytest

from boocode.sandbox import Sandbox, SandboxMode, SandboxPolicy
from boocode.tools import PathGuard, ToolError
from boocode.tools.run_command import CommandResult, format_for_model, run_argv

PYTHON = sys.executable

# Starts a grandchild in the same process group, records "<child pid> <grandchild pid>",
# then sleeps; the grandchild sleeps too and keeps the output pipe open.
SPAWN_GRANDCHILD = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{os.getpid()} {grandchild.pid}")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(float(sys.argv[2]))
"""


def _off(guard: PathGuard) -> Sandbox:
    """These tests watch host PIDs, so they run unsandboxed; tests/sandbox/ runs confined."""
    return Sandbox.unsandboxed(guard.workspace)


def _alive(pid: int) -> bool:
    """Whether `pid` is a live process; a zombie awaiting its reaper counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _eventually_dead(pid: int, within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


async def _pids_when_written(pid_file: Path, within_s: float = 10.0) -> list[int]:
    deadline = time.monotonic() + within_s
    while not pid_file.exists():
        assert time.monotonic() < deadline, "the child never wrote its pid file"
        await asyncio.sleep(0.02)
    return [int(pid) for pid in pid_file.read_text().split()]


def _reset_peak_rss() -> bool:
    """Reset VmHWM (the peak RSS) so it measures only what follows; False if not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} missing from /proc/self/status")


async def test_shell_metacharacters_are_plain_text(guard: PathGuard, workspace: Path) -> None:
    (workspace / "x").write_text("still here")

    result = await run_argv(
        ["echo", "a; rm -rf x", "$(whoami)", "|", "`id`", "&&", ">out"],
        cwd=workspace,
        guard=guard,
        sandbox=_off(guard),
    )

    assert result.output == "a; rm -rf x $(whoami) | `id` && >out\n"
    assert result.exit_code == 0
    assert (workspace / "x").read_text() == "still here"
    assert not (workspace / "out").exists()


async def test_exit_code_duration_and_merged_stderr(guard: PathGuard, workspace: Path) -> None:
    script = "import sys, time; print('out', flush=True); time.sleep(0.1); sys.exit('err')"

    result = await run_argv([PYTHON, "-c", script], cwd=workspace, guard=guard, sandbox=_off(guard))

    assert result.exit_code == 1
    assert result.output == "out\nerr\n"
    assert 100 <= result.duration_ms < 10_000
    assert not result.timed_out
    assert format_for_model(result).startswith(f"exit code: 1 ({result.duration_ms:.0f} ms)\nout")


async def test_program_names_on_path_and_absolute_programs_run(
    guard: PathGuard, workspace: Path
) -> None:
    echo = shutil.which("echo")
    assert echo is not None

    by_name = await run_argv(["echo", "hi"], cwd=workspace, guard=guard, sandbox=_off(guard))
    by_path = await run_argv([echo, "hi"], cwd=workspace, guard=guard, sandbox=_off(guard))

    assert by_name.output == by_path.output == "hi\n"


async def test_missing_program_is_a_clear_error(guard: PathGuard, workspace: Path) -> None:
    with pytest.raises(ToolError, match=r"^command not found: no-such-program-xyz$"):
        await run_argv(
            ["no-such-program-xyz", "--help"], cwd=workspace, guard=guard, sandbox=_off(guard)
        )
    with pytest.raises(ToolError, match="must be a non-empty list"):
        await run_argv([], cwd=workspace, guard=guard, sandbox=_off(guard))


async def test_cwd_must_be_inside_the_workspace(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "sub").mkdir()
    (workspace / "escape").symlink_to(outside, target_is_directory=True)

    inside = await run_argv(
        [PYTHON, "-c", "import os; print(os.getcwd())"],
        cwd=workspace / "sub",
        guard=guard,
        sandbox=_off(guard),
    )
    assert inside.output.strip() == str(workspace.resolve() / "sub")
    for cwd in [outside, workspace / "..", workspace / "escape"]:
        with pytest.raises(ToolError, match="outside the workspace"):
            await run_argv(["touch", "pwned"], cwd=cwd, guard=guard, sandbox=_off(guard))


@pytest.mark.parametrize(
    "arg",
    [
        "/etc/passwd",
        "../outside/secret.txt",
        "..",
        "sub/../../outside",
        "~/.ssh/id_rsa",
        "--file=/etc/passwd",
        "--out=../outside/pwned",
        "escape/secret.txt",
        "escape",
        "of=../outside/pwned",
        "if=/etc/passwd",
        "-o../outside/pwned",
        "-C/etc",
        "file:///etc/passwd",
    ],
)
async def test_path_like_arguments_outside_are_refused(
    guard: PathGuard, workspace: Path, outside: Path, arg: str
) -> None:
    (workspace / "escape").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ToolError, match=r"outside the workspace|starts with '~'"):
        await run_argv(["cp", "-r", arg, "copy"], cwd=workspace, guard=guard, sandbox=_off(guard))


async def test_path_like_arguments_inside_are_allowed(guard: PathGuard, workspace: Path) -> None:
    (workspace / "sub").mkdir()
    args = [
        "sub/file",
        str(workspace / "a"),
        "--out=build/x",
        "../sub/x",
        "https://example.com/a/b",
        "HEAD~1",
    ]

    result = await run_argv(
        ["echo", *args], cwd=workspace / "sub", guard=guard, sandbox=_off(guard)
    )

    assert result.output == " ".join(args) + "\n"


async def test_environment_is_an_allow_list(
    guard: PathGuard, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    near_misses = [
        "BOOCODE_DATABASE_URL",
        "BOOCODE_TOKEN",
        "DEEPSEEK_API_KEY",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "PGPASSWORD",
        "MY_APIKEY",
        "PATH_SECRET",
        "HOME_DIR_KEY",
        "LC_SECRET",
        "LANG_TOKEN",
        "TERMINAL_AUTH",
    ]
    for name in near_misses:
        monkeypatch.setenv(name, f"hunter2-{name}")
    monkeypatch.setenv("LC_TIME", "C")
    monkeypatch.setenv("PROJECT_SETTING", "listed")
    sandbox = Sandbox.open(
        SandboxPolicy(mode=SandboxMode.OFF, env_names=("PROJECT_SETTING",)), workspace
    )

    result = await run_argv(["env"], cwd=workspace, guard=guard, sandbox=sandbox)

    names = {line.split("=", 1)[0] for line in result.output.splitlines()}
    assert names == {"PATH", "HOME", "LC_TIME", "PROJECT_SETTING"} | (
        names & {"LANG", "TERM", "LANGUAGE", "LC_ALL", "COLORTERM", "TZ"}
    )
    assert "hunter2" not in result.output


async def test_timeout_kills_the_whole_group_with_a_backgrounded_grandchild(
    guard: PathGuard, workspace: Path
) -> None:
    started = time.monotonic()

    result = await run_argv(
        [PYTHON, "-c", SPAWN_GRANDCHILD, "pids", "300"],
        cwd=workspace,
        guard=guard,
        sandbox=_off(guard),
        timeout_s=2,
    )

    assert time.monotonic() - started < 6
    assert result.timed_out
    assert result.exit_code is None
    child, grandchild = await _pids_when_written(workspace / "pids")
    assert _eventually_dead(child)
    assert _eventually_dead(grandchild)
    assert "[timed out after" in format_for_model(result)


async def test_a_grandchild_left_running_after_exit_is_killed_and_does_not_hang_output(
    guard: PathGuard, workspace: Path
) -> None:
    started = time.monotonic()

    result = await run_argv(
        [PYTHON, "-c", SPAWN_GRANDCHILD + "print('done')", "pids", "0"],
        cwd=workspace,
        guard=guard,
        sandbox=_off(guard),
        timeout_s=20,
    )

    assert time.monotonic() - started < 5
    assert (result.exit_code, result.timed_out, result.output) == (0, False, "done\n")
    _child, grandchild = await _pids_when_written(workspace / "pids")
    assert _eventually_dead(grandchild)


async def test_cancellation_kills_the_whole_group(guard: PathGuard, workspace: Path) -> None:
    task = asyncio.create_task(
        run_argv(
            [PYTHON, "-c", SPAWN_GRANDCHILD, "pids", "300"],
            cwd=workspace,
            guard=guard,
            sandbox=_off(guard),
            timeout_s=60,
        )
    )
    child, grandchild = await _pids_when_written(workspace / "pids")
    assert _alive(child) and _alive(grandchild)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert _eventually_dead(child)
    assert _eventually_dead(grandchild)


async def test_huge_output_keeps_head_and_tail_in_bounded_memory(
    guard: PathGuard, workspace: Path
) -> None:
    megabytes = 100
    script = (
        "import sys\nout = sys.stdout.buffer\nout.write(b'HEAD')\n"
        f"for _ in range({megabytes}):\n    out.write(b'x' * 1048576)\nout.write(b'TAIL')\n"
    )
    total = 4 + megabytes * 1048576 + 4
    peak_field = "VmHWM" if _reset_peak_rss() else "VmRSS"
    rss_before_kb = _status_kb("VmRSS")

    result = await run_argv(
        [PYTHON, "-c", script], cwd=workspace, guard=guard, sandbox=_off(guard), timeout_s=60
    )

    peak_growth_kb = _status_kb(peak_field) - rss_before_kb
    assert peak_growth_kb < 20 * 1024
    assert result.exit_code == 0
    assert result.truncated_bytes == total - 32 * 1024
    head, marker, tail = result.output.partition(f"\n… [truncated {total - 32 * 1024} bytes] …\n")
    assert marker
    assert head == "HEAD" + "x" * (16 * 1024 - 4)
    assert tail == "x" * (16 * 1024 - 4) + "TAIL"


async def test_output_cap_splits_between_head_and_tail(guard: PathGuard, workspace: Path) -> None:
    result = await run_argv(
        ["printf", "0123456789ABCDEFGHIJ"],
        cwd=workspace,
        guard=guard,
        sandbox=_off(guard),
        output_cap=10,
    )

    assert result.output == "01234\n… [truncated 10 bytes] …\nFGHIJ"
    assert result.truncated_bytes == 10


def test_format_for_model_reports_signals() -> None:
    result = CommandResult(
        argv=["x"], exit_code=-9, duration_ms=12.3, timed_out=False, output="", truncated_bytes=0
    )

    assert (
        format_for_model(result) == "exit code: -9 (12 ms)\n(no output)\n[killed by signal SIGKILL]"
    )
