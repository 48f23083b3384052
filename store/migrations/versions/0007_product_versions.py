"""product versions

Revision ID: 0007
Revises: 0006

The temporal projection `product_versions`: every version of every product with the interval in
which it held. It starts empty at position 0, and the projector fills it from every event.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "product_versions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("price_currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_position", POSITION, nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", "version"),
    )
    op.create_index(
        "ix_product_versions_created", "product_versions", ["created_position", "valid_from", "valid_to"]
    )
    op.create_index("ix_product_versions_name", "product_versions", ["name", "created_position"])
    op.create_index("ix_product_versions_price", "product_versions", ["price_amount", "created_position"])
    op.create_index("ix_product_versions_updated", "product_versions", ["updated_at", "created_position"])


def downgrade() -> None:
    op.drop_table("product_versions")
