"""Does bubblewrap work on this machine? Asked once per process, by running it for real.

A missing program, a kernel without unprivileged user namespaces or a seccomp policy that
forbids them all show up here as a reason, never as a failed turn.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from boocode.sandbox.bwrap import bwrap_argv

INSTALL_HINT = "install it: `apt-get install bubblewrap` (Debian, Ubuntu), `dnf install bubblewrap`"
_PROBE_TIMEOUT_S = 10.0
_PROBE_ENV = {"PATH": "/usr/bin:/bin"}


@dataclass(frozen=True)
class Probe:
    bwrap: str | None
    """The absolute path of a bubblewrap that works here, or None."""
    problem: str | None = None
    """Why bubblewrap cannot be used, when it cannot."""

    @property
    def works(self) -> bool:
        return self.bwrap is not None


@functools.cache
def probe(program: str = "bwrap") -> Probe:
    """Run `true` inside a sandbox built exactly like a command's; report whether it worked."""
    path = shutil.which(program)
    if path is None:
        return Probe(None, f"bubblewrap ({program}) is not installed; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="boocode-probe-") as scratch:
        root = Path(scratch).resolve()
        argv = bwrap_argv(path, ["true"], workspace=root, cwd=root, network=False)
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_PROBE_TIMEOUT_S,
                env=_PROBE_ENV,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Probe(None, f"{path} did not start a sandbox within {_PROBE_TIMEOUT_S:.0f} s")
        except OSError as exc:
            return Probe(None, f"{path} cannot be run: {exc.strerror or exc}")
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[0] if lines else f"exit code {done.returncode}"
        return Probe(None, f"{path} cannot create a sandbox on this machine: {detail}")
    return Probe(path)
