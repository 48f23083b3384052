"""The Alembic migrations create exactly the tables `workers/schema.py` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store import db, migrate
from store.schema import metadata


def test_migrations_match_the_schema(database: str) -> None:
    migrate.upgrade(database)
    with db.engine(database).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
