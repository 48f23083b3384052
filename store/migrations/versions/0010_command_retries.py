"""command retries

Revision ID: 0010
Revises: 0009

`eventshop commands retry` puts a FAILED command back in its mailbox; `command_retries` keeps who
did it, when, and the error and attempts the command had ended with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "command_retries",
        sa.Column("id", POSITION, primary_key=True, autoincrement=True),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.Column("retried_by", sa.String(128), nullable=False),
        sa.Column("retried_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_error", sa.Text(), nullable=True),
        sa.Column("previous_attempts", sa.Integer(), nullable=False),
        sa.Column("previous_completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_command_retries_command_id", "command_retries", ["command_id"])


def downgrade() -> None:
    op.drop_index("ix_command_retries_command_id", "command_retries")
    op.drop_table("command_retries")
