"""The `product_versions` read table: each version of each product with the interval in which it
held, from the time its event was recorded to the time the next one was (open while current)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from store.eventstore import RecordedEvent
from store.product_rows import Row, evolve_row
from store.schema import product_versions
from workers.failpoints import hit
from workers.projections.base import Batch, Projection

INTERVAL = ("valid_from", "valid_to")


def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
    apply_batch(connection, [(recorded, event)])


def apply_batch(connection: Connection, batch: Batch) -> None:
    """Close each product's current version at the event's time and open the next one."""
    ids = {recorded.stream_id for recorded, _ in batch}
    found = connection.execute(
        select(product_versions).where(product_versions.c.id.in_(ids), product_versions.c.valid_to.is_(None))
    )
    current: dict[str, Row] = {row.id: dict(row._mapping) for row in found}
    stored = {(row["id"], row["version"]) for row in current.values()}
    new: dict[tuple[str, int], Row] = {}
    closed: list[Row] = []
    for recorded, event in batch:
        hit("project.product_versions", recorded.data)
        before = current.pop(recorded.stream_id, None)
        after = evolve_row(_product(before), recorded, event)
        if before is not None:
            before["valid_to"] = recorded.recorded_at
            if (before["id"], before["version"]) in stored:
                closed.append(before)
        if after is not None:
            row = {**after, "valid_from": recorded.recorded_at, "valid_to": None}
            new[(row["id"], row["version"])] = current[recorded.stream_id] = row
    if closed:
        connection.execute(
            update(product_versions)
            .where(
                and_(product_versions.c.id == bindparam("key"), product_versions.c.version == bindparam("v"))
            )
            .values(valid_to=bindparam("to")),
            [{"key": row["id"], "v": row["version"], "to": row["valid_to"]} for row in closed],
        )
    if new:
        connection.execute(insert(product_versions), list(new.values()))


def _product(row: Row | None) -> Row | None:
    return None if row is None else {k: v for k, v in row.items() if k not in INTERVAL}


projection = Projection("product_versions", (product_versions,), apply, apply_batch)
