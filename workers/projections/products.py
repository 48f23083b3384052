"""The `products` read table, which `product` and `products` serve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, update

from domain.product import ProductCreated, ProductDeleted, ProductPriceChanged, ProductUpdated
from workers.eventstore import RecordedEvent
from workers.failpoints import hit
from workers.projections import Projection
from workers.schema import products


def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
    hit("project.products", str(recorded.data))
    row = products.c.id == recorded.stream_id
    match event:
        case ProductCreated():
            connection.execute(
                insert(products).values(
                    id=event.product_id,
                    sku=event.sku,
                    name=event.name,
                    description=event.description,
                    price_amount=event.price.amount,
                    price_currency=event.price.currency,
                    version=recorded.version,
                    created_at=event.at,
                    updated_at=event.at,
                    created_position=recorded.position,
                )
            )
        case ProductUpdated():
            changes = {"name": event.name, "description": event.description}
            values = {key: value for key, value in changes.items() if value is not None}
            connection.execute(
                update(products).where(row).values(**values, version=recorded.version, updated_at=event.at)
            )
        case ProductPriceChanged():
            connection.execute(
                update(products)
                .where(row)
                .values(
                    price_amount=event.price.amount,
                    price_currency=event.price.currency,
                    version=recorded.version,
                    updated_at=event.at,
                )
            )
        case ProductDeleted():
            connection.execute(delete(products).where(row))


projection = Projection(name="products", tables=(products,), apply=apply)
