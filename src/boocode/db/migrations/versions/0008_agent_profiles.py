"""An agent conversation's own system prompt (its agent type's) and reasoning effort.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("system_prompt", sa.Text(), nullable=True))
        batch.add_column(sa.Column("effort", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("effort")
        batch.drop_column("system_prompt")
