"""The `product_prices` read table: every price a product has had, by version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from domain.product import ProductCreated, ProductPriceChanged
from workers.eventstore import RecordedEvent
from workers.failpoints import hit
from workers.projections import Projection
from workers.schema import product_prices


def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
    hit("project.product_prices", str(recorded.data))
    if isinstance(event, ProductCreated | ProductPriceChanged):
        connection.execute(
            insert(product_prices).values(
                product_id=recorded.stream_id,
                version=recorded.version,
                price_amount=event.price.amount,
                price_currency=event.price.currency,
                changed_at=event.at,
            )
        )


projection = Projection(name="product_prices", tables=(product_prices,), apply=apply)
