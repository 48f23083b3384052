"""The `product_prices` read table: every price a product has had, by version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from domain.product import ProductCreated, ProductPriceChanged
from store.eventstore import RecordedEvent
from store.schema import product_prices
from workers.failpoints import hit
from workers.projections.base import Batch, Projection


def _row(recorded: RecordedEvent, event: Any) -> dict[str, Any] | None:
    hit("project.product_prices", recorded.data)
    if not isinstance(event, ProductCreated | ProductPriceChanged):
        return None
    return {
        "product_id": recorded.stream_id,
        "version": recorded.version,
        "price_amount": event.price.amount,
        "price_currency": event.price.currency,
        "changed_at": event.at,
    }


def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
    if (row := _row(recorded, event)) is not None:
        connection.execute(insert(product_prices).values(row))


def apply_batch(connection: Connection, batch: Batch) -> None:
    rows = [row for recorded, event in batch if (row := _row(recorded, event)) is not None]
    if rows:
        connection.execute(insert(product_prices), rows)


projection = Projection("product_prices", (product_prices,), apply, apply_batch)
