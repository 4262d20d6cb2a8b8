"""Opening workspace files safely and telling text from binary."""

import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

from boocode.tools.errors import ToolError

SNIFF_BYTES = 8192


def open_regular(path: os.PathLike[str] | str, display: str) -> BinaryIO:
    """Open a regular file for binary reading without following a final symlink.

    FIFOs, devices and sockets are refused so that a read can never block forever.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ToolError(f"no such file: {display}") from None
    except OSError as exc:
        raise ToolError(f"cannot open {display}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ToolError(f"{display} is not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


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
