"""The `orders` read table, which `order`, `orders` and `orderChanged` serve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from store.eventstore import RecordedEvent
from store.order_rows import Row, evolve_row
from store.schema import orders
from workers.failpoints import hit
from workers.projections.base import Batch, Projection


def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
    apply_batch(connection, [(recorded, event)])


def apply_batch(connection: Connection, batch: Batch) -> None:
    """Fold the batch into the rows of the orders it touches, then write those rows."""
    mine = [(recorded, event) for recorded, event in batch if recorded.stream_type == "Order"]
    if not mine:
        return
    ids = {recorded.stream_id for recorded, _ in mine}
    found = connection.execute(select(orders).where(orders.c.id.in_(ids)))
    rows: dict[str, Row | None] = {row.id: dict(row._mapping) for row in found}
    for recorded, event in mine:
        hit("project.orders", recorded.data)
        rows[recorded.stream_id] = evolve_row(rows.get(recorded.stream_id), recorded, event)
    connection.execute(delete(orders).where(orders.c.id.in_(ids)))
    if written := [row for row in rows.values() if row is not None]:
        connection.execute(insert(orders), written)


projection = Projection("orders", (orders,), apply, apply_batch, with_metadata=True)
