"""The command sandbox as the clients see it: its mode and what a command can reach."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class SandboxMode(StrEnum):
    """How commands are confined: `[sandbox] mode` and `BOOCODE_SANDBOX_MODE`."""

    AUTO = "auto"
    """Bubblewrap when it works on this machine, otherwise unsandboxed with a warning."""
    REQUIRED = "required"
    """Bubblewrap or nothing: commands are refused when it cannot run."""
    OFF = "off"
    """Commands run unsandboxed, with the server's user rights."""


class SandboxStatus(BaseModel):
    """What `GET /api/sandbox` says: whether commands are confined, and how."""

    mode: SandboxMode
    confined: bool
    """True when every command runs inside bubblewrap."""
    refuses_commands: bool
    """True when mode is `required` and bubblewrap cannot run: every command is refused."""
    network: bool
    """Whether a confined command may use the network (an unconfined one always can)."""
    reason: str
    """One line for people: what is confined, or why it is not."""
    env_names: list[str] = Field(default_factory=list)
    """The environment variable names a command receives from the server (the allow-list)."""
    read_only: list[str] = Field(default_factory=list)
    """Extra directories a confined command sees read-only, beyond the system's."""
    allow_hard_links: bool = False
    """Whether the file tools open files that have several hard links."""
