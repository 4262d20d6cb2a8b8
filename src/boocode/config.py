"""Settings, in one place: environment variables, flags and the project's config file."""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from boocode.contracts.sandbox import SandboxMode


class Settings(BaseSettings):
    """Everything BooCode reads from its environment (`BOOCODE_*`)."""

    model_config = SettingsConfigDict(env_prefix="BOOCODE_", extra="ignore")

    data_dir: Path = Path("~/.boocode")
    database_url: str | None = None
    workspace: Path = Field(default_factory=Path.cwd)
    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    deepseek_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("DEEPSEEK_API_KEY", "BOOCODE_DEEPSEEK_API_KEY")
    )
    token: str | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    max_tool_iterations: int = 25
    command_timeout_s: float = 30.0
    # A model stream with no text or tool call for this long is stalled, and retried.
    model_idle_timeout_s: float = Field(default=120.0, gt=0)
    # How often a stalled or cut stream is tried in all before the turn fails.
    model_stream_attempts: int = Field(default=3, ge=1, le=10)
    demo_delay_s: float = 0.03
    executor_id: str | None = None
    # How often a process looks for runs that a stopped process left pending.
    executor_sweep_s: float = Field(default=10.0, gt=0)
    otlp_endpoint: str | None = None
    tracing: bool = True  # BOOCODE_TRACING=0 stops recording model and tool calls
    # The command sandbox's defaults; a project's [sandbox] table overrides them (docs/tools.md).
    sandbox_mode: SandboxMode = SandboxMode.AUTO
    sandbox_network: bool = False
    sandbox_env: str = ""  # comma-separated names passed to commands
    sandbox_read_only: str = ""  # os.pathsep-separated directories shown read-only
    sandbox_allow_hard_links: bool = False
    sandbox_bwrap: str = "bwrap"

    def model_post_init(self, __context: Any) -> None:
        self.data_dir = self.data_dir.expanduser().resolve()
        self.workspace = self.workspace.expanduser().resolve()

    @cached_property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL; SQLite in the data dir unless told otherwise."""
        if self.database_url:
            return _async_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir / 'boocode.sqlite'}"

    @property
    def is_postgres(self) -> bool:
        return self.resolved_database_url.startswith("postgresql")

    @property
    def dbos_system_database_url(self) -> str:
        """DBOS keeps its own tables: beside ours on PostgreSQL, in a sibling file on SQLite."""
        if self.is_postgres:
            return self.resolved_database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        return f"sqlite:///{self.data_dir / 'dbos.sqlite'}"

    def project_config(self) -> dict[str, Any]:
        """`<workspace>/.boocode/config.toml`, or an empty table when there is none."""
        path = self.workspace / ".boocode" / "config.toml"
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            return tomllib.load(fh)


def _async_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def redact_url(url: str) -> str:
    """A database URL fit to print: the credentials before `@` replaced by `…`."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url
