"""Alembic environment: migrates the database of the connection or URL it is given."""

from __future__ import annotations

from alembic import context

from store import db
from store.schema import metadata

config = context.config
connection = config.attributes.get("connection")


def run(conn: object) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    with db.engine(config.get_main_option("sqlalchemy.url") or "").connect() as conn:
        run(conn)
