"""Which live product holds each sku: an inline projection, so uniqueness holds under races."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete

from domain.decider import Rejected
from domain.product import ProductCreated, ProductDeleted
from store import db
from store.schema import sku_claims
from workers.projections.base import InlineProjection


def apply(connection: Connection, event: Any) -> None:
    match event:
        case ProductCreated():
            claiming = db.insert_new(connection, sku_claims, ["sku"]).returning(sku_claims.c.sku)
            claim = {"sku": event.sku, "product_id": event.product_id}
            if connection.execute(claiming, claim).first() is None:  # held: nothing written
                raise Rejected(f"sku {event.sku} is already in use")
        case ProductDeleted():
            connection.execute(
                delete(sku_claims).where(
                    sku_claims.c.sku == event.sku, sku_claims.c.product_id == event.product_id
                )
            )


projection = InlineProjection("sku_claims", (sku_claims,), apply, (ProductCreated, ProductDeleted))
