"""The schema, declared once; Alembic migrations follow it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from boocode.db.text import storable, storable_json

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back aware, on SQLite (which drops the offset) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class StorableString(TypeDecorator[str]):
    """A string with NUL and lone surrogates replaced on the way in (see `boocode.db.text`):
    every column holding what a user or a model wrote (a title, a label, a tool name)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else storable(value)


class StorableText(StorableString):
    """Unbounded text made storable the same way."""

    impl = Text
    cache_ok = True


class StorableJSON(TypeDecorator[Any]):
    """JSON whose strings are made storable on the way in."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return storable_json(value)


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: StorableJSON,
        list[Any]: StorableJSON,
        Any: StorableJSON,
    }


class Chat(Base):
    __tablename__ = "chats"
    # The chat list pages by keyset on (updated_at, id), archived or not.
    __table_args__ = (
        Index("ix_chats_listing", "archived", "updated_at", "id"),
        Index("ix_chats_parent", "parent_chat_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(StorableString(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    workspace: Mapped[str] = mapped_column(StorableText())
    model: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[int] = mapped_column(Integer, default=0)
    autofix: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A subagent's conversation belongs to the chat that spawned it and is not listed itself.
    parent_chat_id: Mapped[str | None] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE", name="fk_chats_parent_chat_id"), nullable=True
    )
    # The names of the tools its model is offered; None: every tool of its depth.
    tools: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    # 0 for a user's chat, 1 for a subagent it spawned, and so on.
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A workflow agent's JSON Schema: its model must answer through the submit_result tool.
    output_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # An agent conversation's own instructions (its agent type's body), after the system prompt.
    system_prompt: Mapped[str | None] = mapped_column(StorableText(), nullable=True)
    # The reasoning effort its model calls ask for (low, medium, high, max); None: the endpoint's.
    effort: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Message(Base):
    """One entry of the append-only conversation; `turn_number` groups a turn's messages."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "step_key", name="uq_messages_step_key"),
        Index("ix_messages_chat_branch", "chat_id", "branch_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(Integer, default=0)
    turn_number: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[Any] = mapped_column(StorableJSON())
    reasoning: Mapped[str | None] = mapped_column(StorableText(), nullable=True)
    tool_calls: Mapped[list[Any] | None] = mapped_column(StorableJSON(), nullable=True)
    # The model names tool calls and tools: their text is made storable like any other.
    tool_call_id: Mapped[str | None] = mapped_column(StorableString(200), nullable=True)
    tool_name: Mapped[str | None] = mapped_column(StorableString(100), nullable=True)
    is_error: Mapped[bool] = mapped_column(Boolean, default=False)
    # A tool result of a call the user's cancel stopped: an error, but not the tool's failure.
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    usage: Mapped[dict[str, Any] | None] = mapped_column(StorableJSON(), nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A tool step's key holds the call's id.
    step_key: Mapped[str | None] = mapped_column(StorableString(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What the user attached: the attachments' metadata, never their bytes.
    attachments: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)


_RUN_STATUSES = "'queued', 'running', 'succeeded', 'failed', 'cancelled'"
_RUN_KINDS = "'turn', 'subagent', 'workflow', 'workflow_agent'"
# The one active turn of a chat: the database itself refuses a second.
ACTIVE_TURN = text("kind = 'turn' AND status IN ('queued', 'running')")


class AgentRun(Base):
    """A durable agent run (a chat turn, a subagent, a workflow agent) and its status.

    DBOS's workflow of the same id is the truth about whether it still runs; this record holds
    what the product shows: kind, parent, status, result. Status changes go through
    `boocode.runs.store`, guarded there and by the CHECK here.
    """

    __tablename__ = "agent_runs"
    __table_args__ = (
        Index("ix_agent_runs_chat", "chat_id", "turn_number"),
        Index("ix_agent_runs_parent_chat", "parent_chat_id", "created_at"),
        Index("ix_agent_runs_cache_key", "parent_run_id", "cache_key"),
        Index(
            "ux_agent_runs_active_turn",
            "chat_id",
            unique=True,
            sqlite_where=ACTIVE_TURN,
            postgresql_where=ACTIVE_TURN,
        ),
        CheckConstraint(f"status IN ({_RUN_STATUSES})", name="ck_agent_runs_status"),
        CheckConstraint(f"kind IN ({_RUN_KINDS})", name="ck_agent_runs_kind"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    parent_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    turn_number: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(StorableText(), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    executor_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The user's chat a subagent (or workflow) reports to; `chat_id` is its own conversation.
    parent_chat_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    label: Mapped[str | None] = mapped_column(StorableString(200), nullable=True)
    # What the run was asked to do, and what it gave back (pydantic models as JSON).
    spec: Mapped[dict[str, Any] | None] = mapped_column(StorableJSON(), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(StorableJSON(), nullable=True)
    # When the parent conversation received the run's notification.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A workflow agent's key: SHA-256 of what it was asked, and which of identical asks it is.
    cache_key: Mapped[str | None] = mapped_column(String(80), nullable=True)


class WorkflowLogLine(Base):
    """A workflow run's `log()` lines and `phase()` changes, in order."""

    __tablename__ = "workflow_log"
    __table_args__ = (Index("ix_workflow_log_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("agent_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(StorableText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RunningCommand(Base):
    """A command while it runs: enough to find and kill it if its process dies first."""

    __tablename__ = "running_commands"

    step_key: Mapped[str] = mapped_column(StorableString(300), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # The process's start time in clock ticks since boot: a reused pid has another.
    proc_start: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The tool result once the command ended: a step re-run after a crash reuses it.
    result: Mapped[dict[str, Any] | None] = mapped_column(StorableJSON(), nullable=True)


class Event(Base):
    """Frames as published, kept for a while so a reconnecting client misses nothing."""

    __tablename__ = "events"

    chat_id: Mapped[str] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(StorableJSON())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ToolTrace(Base):
    """One timed call: a model call (`kind` llm) or a tool call (`kind` tool / autofix)."""

    __tablename__ = "tool_traces"
    __table_args__ = (
        Index("ix_traces_chat_id", "chat_id", "id"),
        Index("ix_traces_chat_turn", "chat_id", "turn_number", "id"),
        Index("ix_traces_chat_kind", "chat_id", "kind", "id"),
        Index("ix_traces_chat_tool", "chat_id", "tool_name", "id"),
        Index("ix_traces_chat_outcome", "chat_id", "outcome", "id"),
        Index("ix_traces_session", "session_id", "id"),
        Index("ix_traces_chat_branch", "chat_id", "branch_id", "id"),
        # Partial: only the calls still running, which start-up recovery looks for.
        Index(
            "ix_traces_unfinished",
            "session_id",
            sqlite_where=text("finished_at IS NULL"),
            postgresql_where=text("finished_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    turn_number: Mapped[int] = mapped_column(Integer)
    # The chat's branch when the call began: a restored chat's turn numbers repeat per branch.
    branch_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    step_key: Mapped[str | None] = mapped_column(StorableString(200), nullable=True)
    tool_name: Mapped[str] = mapped_column(StorableString(100))
    input: Mapped[Any] = mapped_column(StorableJSON(), nullable=True)
    output: Mapped[str | None] = mapped_column(StorableText(), nullable=True)
    # What a call returned besides `output`: a model call's reasoning and tool calls, a tool's
    # metadata (exit code, timeout).
    extra: Mapped[dict[str, Any] | None] = mapped_column(StorableJSON(), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cache_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reasoning_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cache_miss_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(StorableText(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)


class AgentSnapshot(Base):
    """What a client needs to rehydrate a chat; one row per chat, upserted per turn."""

    __tablename__ = "agent_snapshots"

    chat_id: Mapped[str] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(StorableJSON())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FileWrite(Base):
    """A file the agent wrote, with its before-image, so a restore can put it back."""

    __tablename__ = "file_writes"
    __table_args__ = (Index("ix_file_writes_chat", "chat_id", "turn_number", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(Integer, default=0)
    turn_number: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(StorableText())
    before: Mapped[str | None] = mapped_column(StorableText(), nullable=True)
    after: Mapped[str | None] = mapped_column(StorableText(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attachment(Base):
    """A file uploaded to a chat; its bytes live in the content-addressed store by `sha256`.

    `model_sha256` names the downscaled copy sent to the model when the original is too large.
    """

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_chat", "chat_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    model_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model_media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    model_size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What a vision model said the image shows, for chat models that cannot see it.
    description: Mapped[str | None] = mapped_column(StorableText(), nullable=True)
    described_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class CacheShape(Base):
    """The shape of one model request (its segments) and what the provider served from cache."""

    __tablename__ = "cache_shapes"
    __table_args__ = (
        UniqueConstraint("chat_id", "step_key", name="uq_cache_shapes_step_key"),
        Index("ix_cache_shapes_chat", "chat_id", "conversation", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    conversation: Mapped[str] = mapped_column(String(64))
    turn_number: Mapped[int] = mapped_column(Integer)
    step_key: Mapped[str] = mapped_column(String(200))
    trace_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    model: Mapped[str] = mapped_column(String(200))
    segments: Mapped[list[Any]] = mapped_column(JSON)
    request_bytes: Mapped[int] = mapped_column(BigInteger)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    cache_hit_tokens: Mapped[int] = mapped_column(Integer)
    cache_miss_tokens: Mapped[int] = mapped_column(Integer)
    diagnosis: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CacheSegment(Base):
    """A request segment's text by its hash, so a later request can be compared byte for byte."""

    __tablename__ = "cache_segments"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
