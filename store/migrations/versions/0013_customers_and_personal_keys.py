"""customers and personal keys

Revision ID: 0013
Revises: 0012

The `customers` read table (personal values sealed, never plain) and `personal_keys`, each
subject's data key wrapped by the master key; forgetting a customer deletes its key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("forgotten", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("registered_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
    )
    op.create_index("ix_customers_owner", "customers", ["owner"])
    op.create_table(
        "personal_keys",
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("wrapped_by", sa.String(16), nullable=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("forgotten_at", MOMENT, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("personal_keys")
    op.drop_index("ix_customers_owner", "customers")
    op.drop_table("customers")
