"""The run_command tool: one program, no shell, bounded in time and in output, run through
the workspace's sandbox (bubblewrap, see `boocode.sandbox`).

Unsandboxed (mode "off", or "auto" where bubblewrap cannot run) the path checks below are a
guard against mistakes only: the program has the server's user rights.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

from pydantic import BaseModel

from boocode.sandbox import CommandRefused, Sandbox
from boocode.tools.errors import ToolError
from boocode.tools.path_guard import PathGuard

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_OUTPUT_CAP = 32 * 1024
# Once the program has exited, output still in the pipe gets this long to arrive.
_DRAIN_GRACE_S = 0.5
# After SIGKILL the group needs a moment to die and close the pipe.
_KILL_WAIT_S = 2.0


class CommandResult(BaseModel):
    """What one run of a program produced."""

    argv: list[str]
    exit_code: int | None
    """None when the run timed out; negative N when a signal N ended it."""
    duration_ms: float
    timed_out: bool
    output: str
    """stdout and stderr interleaved, with a `[truncated N bytes]` marker if cut."""
    truncated_bytes: int
    sandboxed: bool = False
    """Whether bubblewrap confined the run."""


# Told the pid (and process group) of each command as soon as it runs.
ProcessObserver = Callable[[int], Awaitable[None]]


async def run_argv(
    argv: list[str],
    *,
    cwd: Path,
    guard: PathGuard,
    sandbox: Sandbox,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    on_start: ProcessObserver | None = None,
    stdin: bytes | None = None,
) -> CommandResult:
    """Run `argv` directly (no shell, so `;`, `|`, `$(...)` are plain text) inside the workspace.

    The program runs in its own session, through `sandbox`; on timeout, on cancellation and
    after it exits, the whole process group is killed. Sandboxed, that group is bubblewrap,
    whose PID namespace takes every descendant with it (setsid and double forks included).
    Output is kept bounded: the first and last `output_cap / 2` bytes, and a count of the
    bytes cut.

    `cwd` (absolute, or relative to the workspace) must resolve inside the workspace.
    Unsandboxed, so must every path-like argument (see `_argument_paths`); sandboxed, the
    kernel decides what a path reaches. `argv[0]` names the program, not data to touch.
    """
    _check_argv(argv)
    if timeout_s <= 0:
        raise ToolError("timeout_s must be a positive number of seconds")
    workdir = guard.resolve(str(cwd))
    if not workdir.is_dir():
        raise ToolError(f"working directory {guard.relative(workdir)} is not a directory")
    if not sandbox.confined:
        _check_path_arguments(argv[1:], workdir, guard)
    try:
        command = sandbox.prepare(argv, workdir)
    except CommandRefused as exc:
        raise ToolError(str(exc)) from None
    output = _HeadTailBuffer(output_cap)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: _CommandProtocol(output),
            *command.argv,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env=command.env,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise ToolError(f"command not found: {argv[0]}") from None
    except PermissionError:
        raise ToolError(f"permission denied: {argv[0]} is not executable") from None
    except OSError as exc:
        raise ToolError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    group = transport.get_pid()
    if stdin is not None:
        _feed(transport, stdin)
    try:
        if on_start is not None:
            await on_start(group)
        timed_out = not await _wait(protocol.exited, timeout_s)
        duration_ms = (time.monotonic() - started) * 1000
        if not timed_out:
            await _wait(protocol.output_closed, _DRAIN_GRACE_S)
        _kill_group(group)
        await _wait(protocol.exited, _KILL_WAIT_S)
        await _wait(protocol.output_closed, _KILL_WAIT_S)
    finally:
        _kill_group(group)
        transport.close()
        command.clean_up()
    return CommandResult(
        argv=argv,
        exit_code=None if timed_out else transport.get_returncode(),
        duration_ms=round(duration_ms, 1),
        timed_out=timed_out,
        output=output.text(),
        truncated_bytes=output.truncated_bytes,
        sandboxed=sandbox.confined,
    )


def _feed(transport: asyncio.SubprocessTransport, data: bytes) -> None:
    """Hand `data` to the command's stdin and close it; a command that ignores stdin is fine."""
    # uvloop's pipe is no asyncio.WriteTransport subclass, but has the same two methods.
    pipe = cast(asyncio.WriteTransport, transport.get_pipe_transport(0))
    pipe.write(data)
    pipe.write_eof()


def format_for_model(result: CommandResult) -> str:
    """The text the model reads: an `exit code: N (D ms)` header, the output, then notes."""
    code = "none" if result.exit_code is None else str(result.exit_code)
    parts = [f"exit code: {code} ({result.duration_ms:.0f} ms)", result.output or "(no output)"]
    if result.timed_out:
        parts.append(
            f"[timed out after {result.duration_ms:.0f} ms: the command and every process "
            "it started were killed]"
        )
    elif result.exit_code is not None and result.exit_code < 0:
        parts.append(f"[killed by signal {_signal_name(-result.exit_code)}]")
    return "\n".join(parts)


def _check_argv(argv: list[str]) -> None:
    if not argv or not all(isinstance(arg, str) for arg in argv):
        raise ToolError("argv must be a non-empty list of strings, program first")
    if not argv[0]:
        raise ToolError("argv[0] must name the program to run")
    if any("\x00" in arg for arg in argv):
        raise ToolError("arguments must not contain NUL bytes")


def _check_path_arguments(args: list[str], cwd: Path, guard: PathGuard) -> None:
    for arg in args:
        for value in _argument_paths(arg):
            if value.startswith("~"):
                raise ToolError(
                    f"argument {arg!r} starts with '~'; use a path inside the workspace"
                )
            names_a_path = "/" in value or value == ".." or os.path.lexists(cwd / value)
            if names_a_path and not guard.is_inside(cwd / value):
                raise ToolError(f"argument {arg!r} points outside the workspace")


def _argument_paths(arg: str) -> list[str]:
    """Every spelling of a path an argument may carry: itself, `key=PATH` (`--out=`, dd's
    `of=`), an attached short option (`-oPATH`) and a `file://` URL."""
    values = [arg]
    if "=" in arg:
        values.append(arg.split("=", 1)[1])
    if len(arg) > 2 and arg[0] == "-" and arg[1] != "-":
        values.append(arg[2:])
    return [value.removeprefix("file://") for value in values]


class _HeadTailBuffer:
    """Keeps the first and last bytes of a stream; memory stays bounded whatever its length."""

    def __init__(self, cap: int) -> None:
        self._head_cap = cap // 2
        self._tail_cap = cap - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0

    def feed(self, chunk: bytes) -> None:
        self._total += len(chunk)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        self._tail += chunk
        # Trim in batches rather than on every chunk.
        if len(self._tail) > 2 * self._tail_cap:
            del self._tail[: len(self._tail) - self._tail_cap]

    @property
    def truncated_bytes(self) -> int:
        return self._total - len(self._head) - len(self._kept_tail())

    def text(self) -> str:
        head = self._head.decode("utf-8", "replace")
        tail = self._kept_tail().decode("utf-8", "replace")
        if not self.truncated_bytes:
            return head + tail
        return f"{head}\n… [truncated {self.truncated_bytes} bytes] …\n{tail}"

    def _kept_tail(self) -> bytes:
        return bytes(self._tail[max(0, len(self._tail) - self._tail_cap) :])


class _CommandProtocol(asyncio.SubprocessProtocol):
    """Feeds the merged output into a buffer and signals exit and end-of-output separately.

    They are separate because a backgrounded grandchild can hold the pipe open long after
    the program itself has exited.
    """

    def __init__(self, output: _HeadTailBuffer) -> None:
        self._output = output
        self.exited = asyncio.Event()
        self.output_closed = asyncio.Event()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self._output.feed(data.encode() if isinstance(data, str) else data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.output_closed.set()

    def process_exited(self) -> None:
        self.exited.set()


async def _wait(event: asyncio.Event, timeout_s: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
    except TimeoutError:
        return False
    return True


def _kill_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
