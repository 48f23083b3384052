"""product categories

Revision ID: 0012
Revises: 0011

Products get categories (ProductCreated v2). Rows written before read as having none: the column
starts empty, as the upcaster reads a v1 ProductCreated; no event is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("products", "product_versions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("categories", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    for table in ("products", "product_versions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("categories")
