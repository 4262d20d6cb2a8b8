"""Agent runs replace tasks: a checked status, a cancel flag, one active turn per chat.

Also `running_commands`: the process group of each command while it runs, so a command
orphaned by a crash is killed before its step runs again.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ACTIVE_TURN = sa.text("kind = 'turn' AND status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        "agent_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("parent_run_id", sa.String(length=64), nullable=True),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("executor_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name="ck_agent_runs_status",
        ),
        sa.CheckConstraint(
            "kind IN ('turn', 'subagent', 'workflow', 'workflow_agent')",
            name="ck_agent_runs_kind",
        ),
    )
    op.execute(
        "INSERT INTO agent_runs (id, kind, chat_id, turn_number, branch_id, status, error,"
        " cancel_requested, created_at, started_at, finished_at)"
        " SELECT id, 'turn', chat_id, turn_number, branch_id, status,"
        " CASE WHEN error = 'cancel requested' THEN NULL ELSE error END,"
        " error = 'cancel requested', created_at, started_at, finished_at FROM tasks"
    )
    # Before the index: only the newest active turn of a chat can still be live.
    op.execute(
        "UPDATE agent_runs SET status = 'failed', error = 'superseded by a later turn'"
        " WHERE kind = 'turn' AND status IN ('queued', 'running') AND created_at < ("
        " SELECT MAX(r.created_at) FROM agent_runs r WHERE r.chat_id = agent_runs.chat_id"
        " AND r.kind = 'turn' AND r.status IN ('queued', 'running'))"
    )
    op.create_index("ix_agent_runs_chat", "agent_runs", ["chat_id", "turn_number"])
    op.create_index(
        "ux_agent_runs_active_turn",
        "agent_runs",
        ["chat_id"],
        unique=True,
        sqlite_where=_ACTIVE_TURN,
        postgresql_where=_ACTIVE_TURN,
    )
    op.drop_index("ix_tasks_chat", table_name="tasks")
    op.drop_table("tasks")
    op.create_table(
        "running_commands",
        sa.Column("step_key", sa.String(length=300), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("proc_start", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("step_key"),
    )


def downgrade() -> None:
    op.drop_table("running_commands")
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tasks_chat", "tasks", ["chat_id", "turn_number"])
    op.execute(
        "INSERT INTO tasks SELECT id, chat_id, kind, turn_number, branch_id, status, error,"
        " created_at, started_at, finished_at FROM agent_runs WHERE kind = 'turn'"
    )
    op.drop_table("agent_runs")
