"""Running projections: apply events after the checkpoint and advance it in one transaction (I5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from workers import db, eventstore, registry, settings
from workers.schema import projections

RUNNING, HALTED = "RUNNING", "HALTED"


@dataclass
class PoisonEvent(Exception):
    position: int
    index: int
    error: str


def catch_up(name: str, batch_size: int | None = None) -> int:
    """Apply every event up to the head; returns how many. A failing event halts the projection (I7)."""
    limit = batch_size or settings.load().projection_batch
    total = 0
    while True:
        try:
            applied = project_batch(name, limit)
        except PoisonEvent as poison:
            total += project_batch(name, poison.index) if poison.index else 0
            halt(name, poison.position, poison.error)
            return total
        total += applied
        if applied < limit:
            return total


def project_batch(name: str, limit: int) -> int:
    projection = registry.PROJECTIONS[name]
    with db.writing() as connection:
        checkpoint = _lock_checkpoint(connection, name)
        if checkpoint.status == HALTED:
            return 0
        batch = eventstore.read_all(connection, checkpoint.position, limit)
        for index, recorded in enumerate(batch):
            try:
                projection.apply(connection, recorded, registry.decode_event(recorded))
            except DBAPIError:
                raise
            except Exception as error:
                raise PoisonEvent(recorded.position, index, f"{type(error).__name__}: {error}") from error
        if batch:
            _save(connection, name, position=batch[-1].position)
    return len(batch)


def halt(name: str, position: int, error: str) -> None:
    with db.writing() as connection:
        _lock_checkpoint(connection, name)
        _save(connection, name, status=HALTED, error=error, error_position=position)


def _save(connection: Connection, name: str, **values: Any) -> None:
    connection.execute(
        update(projections).where(projections.c.name == name).values(updated_at=datetime.now(UTC), **values)
    )


def _lock_checkpoint(connection: Connection, name: str) -> Row[Any]:
    dialect = postgresql if db.is_postgres(connection) else sqlite
    connection.execute(
        dialect.insert(projections)
        .values(name=name, position=0, status=RUNNING, updated_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return connection.execute(select(projections).where(projections.c.name == name).with_for_update()).one()


def behind() -> list[str]:
    """Running projections whose checkpoint is behind the head of the store."""
    with db.reading() as connection:
        head = eventstore.head(connection)
        rows = {row.name: row for row in connection.execute(select(projections))}
    return [
        name
        for name in registry.PROJECTIONS
        if name not in rows or (rows[name].status == RUNNING and rows[name].position < head)
    ]
