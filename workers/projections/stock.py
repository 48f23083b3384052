"""The `stock` read table: each sku's units on hand and reserved, which `stock(sku)` serves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from domain.stock import StockReceived, StockReleased, StockReserved
from store.eventstore import RecordedEvent
from store.schema import stock
from workers.failpoints import hit
from workers.projections.base import Batch, Projection

CHANGES = {StockReceived: ("on_hand", 1), StockReserved: ("reserved", 1), StockReleased: ("reserved", -1)}


def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
    apply_batch(connection, [(recorded, event)])


def apply_batch(connection: Connection, batch: Batch) -> None:
    """Fold the batch into the rows of the skus it touches, then write those rows."""
    mine = [(recorded, event) for recorded, event in batch if recorded.stream_type == "Stock"]
    if not mine:
        return
    skus = {event.sku for _, event in mine}
    found = connection.execute(select(stock).where(stock.c.sku.in_(skus)))
    rows: dict[str, dict[str, Any]] = {row.sku: dict(row._mapping) for row in found}
    for recorded, event in mine:
        hit("project.stock", recorded.data)
        row = rows.setdefault(event.sku, {"sku": event.sku, "on_hand": 0, "reserved": 0})
        if (change := CHANGES.get(type(event))) is not None:
            column, sign = change
            row[column] += sign * event.quantity
        row.update(version=recorded.version, updated_at=event.at)
    connection.execute(delete(stock).where(stock.c.sku.in_(skus)))
    connection.execute(insert(stock), list(rows.values()))


projection = Projection("stock", (stock,), apply, apply_batch)
