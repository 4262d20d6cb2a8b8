"""Opening workspace files safely and telling text from binary."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from boocode.tools.errors import ToolError
from boocode.tools.path_guard import PathGuard

SNIFF_BYTES = 8192


def open_regular(
    guard: PathGuard, target: Path, display: str, *, writable: bool = False, create: bool = False
) -> BinaryIO:
    """Open a regular file of the workspace (`target` from `guard.resolve`) for binary reading,
    or reading and writing, through `guard.open_beneath`: no symlink followed on the way.

    FIFOs, devices and sockets are refused so that a read can never block forever, and a file
    with several hard links unless the project allows them. `create` makes a new file (and its
    parents) and fails if one already exists.
    """
    if writable:
        guard.check_writable(target)
    flags = (os.O_RDWR if writable else os.O_RDONLY) | os.O_NONBLOCK
    if create:
        flags |= os.O_CREAT | os.O_EXCL
    try:
        fd = guard.open_beneath(target, flags, make_parents=create)
    except FileNotFoundError:
        raise ToolError(f"no such file: {display}") from None
    except OSError as exc:
        verb = "write" if writable else "open"
        raise ToolError(f"cannot {verb} {display}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ToolError(f"{display} is not a regular file")
        guard.check_links(info, target)
    except BaseException:
        os.close(fd)
        raise
    os.set_blocking(fd, True)
    return os.fdopen(fd, "r+b" if writable else "rb")


def read_beneath(workspace: Path, path: Path, errors: str = "strict") -> str:
    """The UTF-8 text of `path`, a file inside `workspace` that a command may have written (an
    agent definition, a workflow script), for the server itself to read: opened through
    `PathGuard.open_beneath` like the file tools, so a symlink or hard link planted there does
    not lead the server to a file outside. Raises OSError (PermissionError for a way out) or,
    with strict `errors`, UnicodeDecodeError."""
    guard = PathGuard(workspace)
    shown = os.path.relpath(path, workspace)
    try:
        with open_regular(guard, guard.resolve(shown), shown) as file:
            return file.read().decode("utf-8", errors)
    except ToolError as exc:
        raise PermissionError(str(exc)) from None


def looks_binary(sample: bytes) -> bool:
    """Whether a file's first bytes say it is binary (git's rule: a NUL byte)."""
    return b"\x00" in sample[:SNIFF_BYTES]


def iter_lines(file: BinaryIO, max_line_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Yield `(line, bytes_cut)` without line endings; a longer line is cut to `max_line_bytes`.

    Memory stays bounded even for a file that is one enormous line.
    """
    while line := file.readline(max_line_bytes):
        cut = 0
        if not line.endswith(b"\n") and len(line) == max_line_bytes:
            while rest := file.readline(max_line_bytes):
                cut += len(rest)
                if rest.endswith(b"\n"):
                    cut -= 1
                    break
        yield _without_line_ending(line), cut


def _without_line_ending(line: bytes) -> bytes:
    if line.endswith(b"\n"):
        line = line[:-1]
    return line[:-1] if line.endswith(b"\r") else line
