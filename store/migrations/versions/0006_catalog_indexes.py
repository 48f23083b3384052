"""catalog indexes

Revision ID: 0006
Revises: 0005

An index per catalog sort order, and on PostgreSQL trigram indexes (the pg_trgm extension, part
of PostgreSQL's contrib) so a case-insensitive substring search stays an index lookup.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_products_name", "products", ["name", "created_position"])
    op.create_index("ix_products_price", "products", ["price_amount", "created_position"])
    op.create_index("ix_products_updated", "products", ["updated_at", "created_position"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in ("name", "sku"):
            op.create_index(
                f"ix_products_{column}_trgm",
                "products",
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in ("name", "sku"):
            op.drop_index(f"ix_products_{column}_trgm", table_name="products")
    for name in ("ix_products_updated", "ix_products_price", "ix_products_name"):
        op.drop_index(name, table_name="products")
