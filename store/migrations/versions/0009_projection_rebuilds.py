"""projection rebuilds

Revision ID: 0009
Revises: 0008

A projection being rebuilt into shadow tables while its live version serves: how far the new
version has got, so `projections status` can show both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "projection_rebuilds",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("target", POSITION, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_rebuilds")
