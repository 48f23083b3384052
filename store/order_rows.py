"""An order as the read side shows it (the row of the `orders` table), folded from its events:
shared by the `orders` projection and the API's reads of an order's past."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.order import (
    CANCELLED,
    CONFIRMED,
    EXPIRED,
    REJECTED,
    RESERVED,
    OrderCancelled,
    OrderExpired,
    OrderPaid,
    OrderPlaced,
    OrderRejected,
    OrderReserved,
)
from store.eventstore import RecordedEvent

Row = dict[str, Any]


def evolve_row(row: Row | None, recorded: RecordedEvent, event: Any) -> Row | None:
    """The order's row after `event` (None before it was placed)."""
    if isinstance(event, OrderPlaced):
        return {
            "id": event.order_id,
            "customer_id": event.customer_id,
            "placed_by": event.placed_by,
            "status": "PLACED",
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unit_price": vars(line.unit_price)}
                for line in event.lines
            ],
            "total_amount": event.total.amount,
            "total_currency": event.total.currency,
            "reason": None,
            "placed_at": event.at,
            "updated_at": event.at,
            "payment_due_at": None,
            "correlation_id": str(recorded.metadata.get("correlation_id") or recorded.stream_id),
            "version": recorded.version,
            "created_position": recorded.position,
        }
    if row is None:
        return None
    changes: Row = {"version": recorded.version, "updated_at": event.at}
    match event:
        case OrderReserved():
            changes |= {"status": RESERVED, "payment_due_at": event.payment_due_at}
        case OrderRejected():
            changes |= {"status": REJECTED, "reason": event.reason}
        case OrderPaid():
            changes |= {"status": CONFIRMED}
        case OrderCancelled():
            changes |= {"status": CANCELLED, "reason": event.reason or "cancelled"}
        case OrderExpired():
            changes |= {"status": EXPIRED, "reason": "not paid in time"}
    return row | changes


def fold(history: Iterable[tuple[RecordedEvent, Any]]) -> Row | None:
    row: Row | None = None
    for recorded, event in history:
        row = evolve_row(row, recorded, event)
    return row
