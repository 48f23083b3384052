"""projection attempts and skips, price history

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_prices",
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("price_currency", sa.String(length=3), nullable=False),
        sa.Column("changed_at", store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("product_id", "version"),
    )
    op.create_table(
        "projection_skips",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("projection", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("skipped_by", sa.String(length=128), nullable=False),
        sa.Column("skipped_at", store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("projection_skips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projection_skips_projection"), ["projection"], unique=False)

    with op.batch_alter_table("projections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("projections", schema=None) as batch_op:
        batch_op.drop_column("attempts")

    with op.batch_alter_table("projection_skips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projection_skips_projection"))

    op.drop_table("projection_skips")
    op.drop_table("product_prices")
