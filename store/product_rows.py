"""A product as the read side shows it (the row of the `products` table), folded from its events:
shared by the projections that keep product rows and by the API's reads of the past."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.product import (
    CATEGORY_SEPARATOR,
    ProductCreated,
    ProductDeleted,
    ProductPriceChanged,
    ProductUpdated,
)
from store.eventstore import RecordedEvent

Row = dict[str, Any]


def joined(categories: tuple[str, ...]) -> str:
    """Categories as the `categories` column holds them, "|a|b|" ("" for none): one
    `LIKE '%|a|%'` finds a category (a category never holds the separator)."""
    return (
        f"{CATEGORY_SEPARATOR}{CATEGORY_SEPARATOR.join(categories)}{CATEGORY_SEPARATOR}" if categories else ""
    )


def split(column: str) -> list[str]:
    """The categories a `categories` column holds."""
    return column.strip(CATEGORY_SEPARATOR).split(CATEGORY_SEPARATOR) if column else []


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
                "categories": joined(event.categories),
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
            given = event.changes
            changes |= {
                k: v for k, v in (("name", given.name), ("description", given.description)) if v is not None
            }
            if given.categories is not None:
                changes["categories"] = joined(given.categories)
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
