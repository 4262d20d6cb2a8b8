"""Sandboxes for tests: bubblewrap when it runs here, a clean skip (or a failure) when not.

Set BOOCODE_REQUIRE_SANDBOX=1 (CI does) to turn the skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from boocode.sandbox import Sandbox, SandboxMode, SandboxPolicy, probe


def require_bubblewrap() -> str:
    """The bubblewrap program, or skip the test saying why it cannot run."""
    found = probe()
    if found.bwrap is not None:
        return found.bwrap
    if os.environ.get("BOOCODE_REQUIRE_SANDBOX"):
        pytest.fail(f"BOOCODE_REQUIRE_SANDBOX is set but {found.problem}")
    pytest.skip(f"bubblewrap cannot run here: {found.problem}")


def confined(workspace: Path, **policy: Any) -> Sandbox:
    """A required-mode sandbox of `workspace`; `policy` sets network, env_names, read_only..."""
    require_bubblewrap()
    return Sandbox.open(SandboxPolicy(mode=SandboxMode.REQUIRED, **policy), workspace)
