"""A product as the read side shows it (the row of the `products` table), folded from its events:
shared by the projections that keep product rows and by the API's reads of the past."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.product import ProductCreated, ProductDeleted, ProductPriceChanged, ProductUpdated
from store.eventstore import RecordedEvent

Row = dict[str, Any]


def evolve_row(row: Row | None, recorded: RecordedEvent, event: Any) -> Row | None:
    """The product's row after `event`: None when it does not exist (or no longer does)."""
    match event:
        case ProductCreated():
            return {
                "id": event.product_id,
                "sku": event.sku,
                "name": event.name,
                "description": event.description,
                "price_amount": event.price.amount,
                "price_currency": event.price.currency,
                "version": recorded.version,
                "created_at": event.at,
                "updated_at": event.at,
                "created_position": recorded.position,
            }
        case ProductDeleted():
            return None
    if row is None:
        return None
    changes: Row = {"version": recorded.version, "updated_at": event.at}
    match event:
        case ProductUpdated():
            changes |= {
                k: v for k, v in (("name", event.name), ("description", event.description)) if v is not None
            }
        case ProductPriceChanged():
            changes |= {"price_amount": event.price.amount, "price_currency": event.price.currency}
    return row | changes


def last_shown(history: Iterable[tuple[RecordedEvent, Any]]) -> Row | None:
    """The product after these events, or, if they end with its deletion, as it was just before;
    None if it never existed."""
    row: Row | None = None
    shown: Row | None = None
    for recorded, event in history:
        row = evolve_row(row, recorded, event)
        shown = row if row is not None else shown
    return shown
