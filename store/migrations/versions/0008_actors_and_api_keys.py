"""actors and API keys

Revision ID: 0008
Revises: 0007

Each command keeps the kind of credential and the roles of whoever submitted it (its `actor`
column already holds the subject; earlier commands were anonymous), and `api_keys` holds the hash
of every API key with its roles.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DOCUMENT = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("commands") as batch:
        batch.add_column(sa.Column("actor_credential", sa.String(16), nullable=False, server_default="none"))
        batch.add_column(sa.Column("actor_roles", DOCUMENT, nullable=False, server_default="[]"))
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("roles", DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    with op.batch_alter_table("commands") as batch:
        batch.drop_column("actor_roles")
        batch.drop_column("actor_credential")
