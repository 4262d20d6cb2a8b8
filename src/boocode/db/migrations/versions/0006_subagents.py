"""Background subagents: a chat may belong to a parent chat; runs carry a label, a spec, a
result and when their notification reached the parent. A running command keeps its result
once it ended, until its run ends.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("parent_chat_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("tools", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("depth", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key(
            "fk_chats_parent_chat_id", "chats", ["parent_chat_id"], ["id"], ondelete="CASCADE"
        )
    op.create_index("ix_chats_parent", "chats", ["parent_chat_id"], unique=False)
    with op.batch_alter_table("agent_runs") as batch:
        batch.add_column(sa.Column("parent_chat_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("label", sa.String(200), nullable=True))
        batch.add_column(sa.Column("spec", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_agent_runs_parent_chat", "agent_runs", ["parent_chat_id", "created_at"], unique=False
    )
    with op.batch_alter_table("running_commands") as batch:
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("running_commands") as batch:
        batch.drop_column("result")
    op.drop_index("ix_agent_runs_parent_chat", table_name="agent_runs")
    with op.batch_alter_table("agent_runs") as batch:
        for column in ("delivered_at", "result", "spec", "label", "parent_chat_id"):
            batch.drop_column(column)
    op.drop_index("ix_chats_parent", table_name="chats")
    with op.batch_alter_table("chats") as batch:
        batch.drop_constraint("fk_chats_parent_chat_id", type_="foreignkey")
        for column in ("depth", "tools", "parent_chat_id"):
            batch.drop_column(column)
