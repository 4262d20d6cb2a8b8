"""Settings, in one place: environment variables, flags and the project's config file."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
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
    port: int = Field(default=8765, ge=0, le=65535)
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
    # What a project's [sandbox] table may widen; by default it can only narrow.
    sandbox_project_network: bool = False
    sandbox_project_env: str = ""  # comma-separated names a project may pass to commands
    sandbox_project_read_only: str = ""  # os.pathsep-separated directories it may show inside
    sandbox_project_hard_links: bool = False
    # Attachments: stored once by SHA-256 under `attachments_dir` (default <data_dir>/attachments).
    attachments_dir: Path | None = None
    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    attachments_per_message: int = Field(default=8, gt=0)
    attachment_message_max_bytes: int = Field(default=40 * 1024 * 1024, gt=0)
    attachment_chat_max_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    # What one model request may carry of attachments, as sent (images as base64 data URLs):
    # every request of a chat sends all its files again. Below providers' body limits (DeepSeek
    # refuses bodies over about 48 MiB).
    attachment_request_max_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    # Images with a longer side are sent downscaled to it; the original is kept.
    attachment_image_max_side: int = Field(default=2048, ge=64)
    # Glob patterns (comma-separated) of the model names that accept `image_url` parts;
    # empty: the defaults in boocode.attachments.vision.
    vision_models: str | None = None
    # A vision model that describes images for a text-only chat model, instead of refusing them;
    # its endpoint and key default to BOOCODE_BASE_URL and BOOCODE_API_KEY.
    image_describer_model: str | None = None
    image_describer_base_url: str | None = None
    image_describer_api_key: str | None = None
    # Background subagents (docs/subagents.md): how many run at once on all processes, and per
    # chat; how deep they may nest (1: a subagent cannot spawn subagents); whether a finished
    # subagent wakes its idle parent chat; the longest subagent_result may wait.
    subagent_concurrency: int = Field(default=8, ge=1, le=256)
    subagent_chat_concurrency: int = Field(default=4, ge=1, le=256)
    subagent_max_depth: int = Field(default=1, ge=1, le=5)
    subagent_wake_parent: bool = True
    subagent_result_wait_s: float = Field(default=120.0, gt=0)
    # Workflows (docs/workflows.md): agents of one run at once (default min(16, cores - 2)),
    # and workflow agents running at once on all processes.
    workflow_concurrency: int = Field(
        default_factory=lambda: min(16, max(1, (os.cpu_count() or 1) - 2)), ge=1, le=256
    )
    workflow_agent_concurrency: int = Field(default=16, ge=1, le=1024)
    # Model names a workflow's agent() may ask for, mapped to the endpoint's: comma-separated
    # alias=model pairs (haiku=deepseek-flash,opus=deepseek-v4-pro).
    model_aliases: str = ""
    # Prices in USD per million prompt tokens, for the money the prompt cache saved: DeepSeek's
    # off-peak deepseek-flash prices as listed in 2026-11 (peak hours cost twice as much).
    cache_hit_price: float = Field(default=0.003, ge=0)
    cache_miss_price: float = Field(default=0.15, ge=0)

    @field_validator("model_aliases")
    @classmethod
    def _aliases_parse(cls, value: str) -> str:
        from boocode.workflows.models import parse_aliases

        parse_aliases(value)
        return value

    def model_post_init(self, __context: Any) -> None:
        self.data_dir = self.data_dir.expanduser().resolve()
        self.workspace = self.workspace.expanduser().resolve()
        if self.attachments_dir is not None:
            self.attachments_dir = self.attachments_dir.expanduser().resolve()

    @property
    def attachment_store_dir(self) -> Path:
        return self.attachments_dir or self.data_dir / "attachments"

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


def describe_invalid(error: ValidationError) -> str:
    """`BOOCODE_SANDBOX_MODE: Input should be 'auto', 'required' or 'off' (got 'x')`."""
    return "; ".join(
        f"BOOCODE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']} (got {e['input']!r})"
        for e in error.errors(include_url=False)
    )


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
