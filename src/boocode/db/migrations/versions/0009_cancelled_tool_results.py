"""A tool result says whether the user's cancel stopped its call, instead of its text saying so.

Revision ID: 0009
Revises: 0008
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The results a cancel gave until now, by which they were told apart: applied once, to old rows.
_CANCELLED_RESULTS = (
    "cancelled by the user while it ran",
    "cancelled by the user before it ran",
    "cancelled by the user after the process running it stopped; "
    "the command it left running was killed",
)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    messages = sa.table(
        "messages",
        sa.column("role", sa.String()),
        sa.column("is_error", sa.Boolean()),
        sa.column("content", sa.JSON()),
        sa.column("cancelled", sa.Boolean()),
    )
    op.execute(
        messages.update()
        .where(
            messages.c.role == "tool",
            messages.c.is_error == sa.true(),
            sa.cast(messages.c.content, sa.Text()).in_(
                [json.dumps(text) for text in _CANCELLED_RESULTS]
            ),
        )
        .values(cancelled=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("cancelled")
