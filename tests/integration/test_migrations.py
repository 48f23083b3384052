"""The Alembic migrations create exactly the tables and indexes `store/schema.py` declares for the
database at hand (some indexes exist only on PostgreSQL)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store import db, migrate
from store.schema import metadata


def test_migrations_match_the_schema(database: str) -> None:
    migrate.upgrade(database)
    with db.engine(database).connect() as connection:
        dialect = connection.dialect.name

        def declared_here(thing: Any, *_: Any) -> bool:
            only = getattr(thing, "_ddl_if", None)
            return only is None or only.dialect in (None, dialect)

        context = MigrationContext.configure(connection, opts={"include_object": declared_here})
        assert compare_metadata(context, metadata) == []
