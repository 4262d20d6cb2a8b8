"""The command sandbox: every program BooCode runs for the agent goes through `Sandbox.prepare`.

Bubblewrap confines it (workspace read-write, system read-only, the rest invisible, a private
PID namespace); `mode = "off"`, or `auto` on a machine where bubblewrap cannot run, runs it
unsandboxed and says so.
"""

from boocode.contracts.sandbox import SandboxMode, SandboxStatus
from boocode.sandbox.policy import SandboxPolicy
from boocode.sandbox.probe import Probe, probe
from boocode.sandbox.sandbox import (
    CommandRefused,
    PreparedCommand,
    Sandbox,
    sandbox_for,
    start_notice,
    warn_if_unconfined,
)

__all__ = [
    "CommandRefused",
    "PreparedCommand",
    "Probe",
    "Sandbox",
    "SandboxMode",
    "SandboxPolicy",
    "SandboxStatus",
    "probe",
    "sandbox_for",
    "start_notice",
    "warn_if_unconfined",
]
