"""command partitions

Revision ID: 0004
Revises: 0003

Commands recorded before this migration are in partition 0; a worker draining partition 0 handles
them, and per-aggregate order holds across partitions (the handler reads an aggregate's pending
commands whatever their partition).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commands") as batch:
        batch.add_column(sa.Column("partition", sa.Integer(), server_default="0", nullable=False))
        batch.create_index("ix_commands_partition", ["partition", "status", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("commands") as batch:
        batch.drop_index("ix_commands_partition")
        batch.drop_column("partition")
