"""Archived chats and a keyset index for the chat list; traces carry their branch and extra.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_chats_listing", "chats", ["archived", "updated_at", "id"], unique=False)
    with op.batch_alter_table("tool_traces") as batch:
        batch.add_column(sa.Column("branch_id", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))
    op.create_index(
        "ix_traces_chat_branch", "tool_traces", ["chat_id", "branch_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_traces_chat_branch", table_name="tool_traces")
    with op.batch_alter_table("tool_traces") as batch:
        batch.drop_column("extra")
        batch.drop_column("branch_id")
    op.drop_index("ix_chats_listing", table_name="chats")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("archived")
