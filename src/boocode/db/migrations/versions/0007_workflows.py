"""Workflow runs: agents keyed by their content, a conversation's output schema, the run's log.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("agent_runs") as batch:
        batch.add_column(sa.Column("cache_key", sa.String(80), nullable=True))
    op.create_index(
        "ix_agent_runs_cache_key", "agent_runs", ["parent_run_id", "cache_key"], unique=False
    )
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("output_schema", sa.JSON(), nullable=True))
    op.create_table(
        "workflow_log",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(64),
            sa.ForeignKey("agent_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_workflow_log_run", "workflow_log", ["run_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_workflow_log_run", table_name="workflow_log")
    op.drop_table("workflow_log")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("output_schema")
    op.drop_index("ix_agent_runs_cache_key", table_name="agent_runs")
    with op.batch_alter_table("agent_runs") as batch:
        batch.drop_column("cache_key")
