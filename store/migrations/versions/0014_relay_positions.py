"""relay positions

Revision ID: 0014
Revises: 0013

The outbox relay's checkpoint per sink (NATS JetStream, Redis Streams).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "relay_positions",
        sa.Column("sink", sa.String(200), primary_key=True),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("published", POSITION, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("relay_positions")
