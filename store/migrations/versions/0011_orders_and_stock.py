"""orders and stock

Revision ID: 0011
Revises: 0010

The read tables `stock` and `orders`, the order process manager's state and its payment
deadlines, and each command's causation (the event that made a process manager issue it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOCUMENT = sa.JSON().with_variant(JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("commands") as batch:
        batch.add_column(sa.Column("causation_id", sa.String(64), nullable=True))
    op.create_table(
        "stock",
        sa.Column("sku", sa.String(32), primary_key=True),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("placed_by", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lines", DOCUMENT, nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("total_currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("placed_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.Column("payment_due_at", MOMENT, nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_position", POSITION, nullable=False, unique=True),
    )
    op.create_index("ix_orders_status", "orders", ["status", "created_position"])
    op.create_index("ix_orders_customer", "orders", ["customer_id", "created_position"])
    op.create_index("ix_orders_placed_by", "orders", ["placed_by", "created_position"])
    op.create_table(
        "order_processes",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("state", DOCUMENT, nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
    )
    op.create_table(
        "deadlines",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("due_at", MOMENT, nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("armed_by", POSITION, nullable=False),
    )
    op.create_index("ix_deadlines_due_at", "deadlines", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_deadlines_due_at", "deadlines")
    op.drop_table("deadlines")
    op.drop_table("order_processes")
    for name in ("ix_orders_placed_by", "ix_orders_customer", "ix_orders_status"):
        op.drop_index(name, "orders")
    op.drop_table("orders")
    op.drop_table("stock")
    with op.batch_alter_table("commands") as batch:
        batch.drop_column("causation_id")
