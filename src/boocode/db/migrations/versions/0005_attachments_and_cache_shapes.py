"""Attachments stored by content hash, and the shape of every model request for cache telemetry.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "chat_id", sa.String(32), sa.ForeignKey("chats.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=True),
        sa.Column("model_media_type", sa.String(100), nullable=True),
        sa.Column("model_size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("described_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_attachments_chat", "attachments", ["chat_id", "created_at"])
    op.create_table(
        "cache_shapes",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "chat_id", sa.String(32), sa.ForeignKey("chats.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("conversation", sa.String(64), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(200), nullable=False),
        sa.Column("trace_id", sa.BigInteger(), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("request_bytes", sa.BigInteger(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_hit_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_miss_tokens", sa.Integer(), nullable=False),
        sa.Column("diagnosis", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chat_id", "step_key", name="uq_cache_shapes_step_key"),
    )
    op.create_index("ix_cache_shapes_chat", "cache_shapes", ["chat_id", "conversation", "id"])
    op.create_table(
        "cache_segments",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cache_segments")
    op.drop_index("ix_cache_shapes_chat", table_name="cache_shapes")
    op.drop_table("cache_shapes")
    op.drop_index("ix_attachments_chat", table_name="attachments")
    op.drop_table("attachments")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attachments")
