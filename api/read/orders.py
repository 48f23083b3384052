"""Stock, orders and traces for the API: the `stock` and `orders` read tables, the mailbox and
the event store (an order's past and a correlation's events)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from api.graphql.errors import UserInputError
from api.read import pages, replicas
from api.read.queries import as_uuid, command_row, event
from store import db, eventstore, order_rows, registry
from store import trace as store_trace
from store.schema import events, orders, products, projections, stock

ORDERS = pages.Keyset("order")
STOCK, ORDERS_PROJECTION = "stock", "orders"  # the projections these reads are served from
STATUSES = frozenset({"PLACED", "RESERVED", "CONFIRMED", "REJECTED", "CANCELLED", "EXPIRED"})


def stock_item(url: str, sku: str) -> dict[str, Any] | None:
    with replicas.reading(url) as connection:
        row = connection.execute(select(stock).where(stock.c.sku == sku)).first()
    if row is None:
        return None
    available = max(row.on_hand - row.reserved, 0)
    return {
        "sku": row.sku,
        "onHand": row.on_hand,
        "reserved": row.reserved,
        "available": available,
        "version": row.version,
    }


def _order(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customerId": row["customer_id"],
        "status": row["status"],
        "lines": [
            {"sku": line["sku"], "quantity": line["quantity"], "unitPrice": line["unit_price"]}
            for line in row["lines"]
        ],
        "total": {"amount": row["total_amount"], "currency": row["total_currency"]},
        "reason": row["reason"],
        "placedAt": row["placed_at"],
        "updatedAt": row["updated_at"],
        "paymentDueAt": row["payment_due_at"],
        "correlationId": row["correlation_id"],
        "version": row["version"],
    }


def order(url: str, order_id: str, owner: str | None, as_of: datetime | None = None) -> dict[str, Any] | None:
    """The order now, or as it was at `as_of` (rebuilt from its events); None when unknown or
    placed by another subject than `owner` (None: anyone's)."""
    key = as_uuid(order_id)
    if key is None:
        return None
    with replicas.reading(url) as connection:
        if as_of is None:
            found = connection.execute(select(orders).where(orders.c.id == key)).first()
            row = None if found is None else dict(found._mapping)
        else:
            query = select(events).where(events.c.stream_id == key, events.c.recorded_at <= as_of)
            stream = [eventstore.recorded(r) for r in connection.execute(query.order_by(events.c.version))]
            row = order_rows.fold((r, registry.decode_event(r)) for r in stream if r.stream_type == "Order")
    if row is None or (owner is not None and row["placed_by"] != owner):
        return None
    return _order(row)


def order_page(
    url: str,
    owner: str | None,
    first: int | None,
    after: str | None,
    status: str | None,
    customer: str | None,
) -> dict[str, Any]:
    """A page of orders, oldest first: `owner`'s (None: everyone's), in `status`, of `customer`."""
    conditions = []
    if owner is not None:
        conditions.append(orders.c.placed_by == owner)
    if status is not None:
        conditions.append(orders.c.status == status)
    if customer is not None:
        conditions.append(orders.c.customer_id == (as_uuid(customer) or ""))
    found = pages.page(url, orders, ORDERS, first, after, None, conditions)
    found["edges"] = [{"cursor": e["cursor"], "node": _order(e["row"]._mapping)} for e in found["edges"]]
    return found


def prices(url: str, skus: list[str]) -> dict[str, tuple[int, str]]:
    """The current price of each sku the catalog holds, by sku."""
    with db.reading(url) as connection:
        rows = connection.execute(
            select(products.c.sku, products.c.price_amount, products.c.price_currency).where(
                products.c.sku.in_(skus)
            )
        )
        return {row.sku: (row.price_amount, row.price_currency) for row in rows}


def trace(url: str, correlation_id: str) -> dict[str, Any]:
    """Every command and event of the correlation, and whether it has settled."""
    if not (correlation_id.isascii() and 0 < len(correlation_id) <= 64):
        raise UserInputError("correlationId must be an id this API gave out")
    with db.reading(url) as connection:
        found = store_trace.load(connection, correlation_id)
        passed = connection.execute(select(func.min(projections.c.position))).scalar() or 0
    return {
        "correlationId": correlation_id,
        "commands": [command_row(row, passed) for row in found.commands],
        "events": [event(row) for row in found.events],
        "settled": found.settled,
    }
