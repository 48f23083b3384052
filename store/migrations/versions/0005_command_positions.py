"""command positions

Revision ID: 0005
Revises: 0004

Each handled command keeps the global position of its last event: its consistency token. Commands
handled before this migration get theirs from the events they appended.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commands") as batch:
        batch.add_column(
            sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
    op.execute(
        "UPDATE commands SET position ="
        " (SELECT max(events.position) FROM events WHERE events.command_id = commands.id)"
        " WHERE status = 'SUCCEEDED'"
    )


def downgrade() -> None:
    with op.batch_alter_table("commands") as batch:
        batch.drop_column("position")
