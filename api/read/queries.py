"""Reads for the API: read tables, the command mailbox and (for history) the event store."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from api.graphql.errors import UserInputError
from api.read import catalog, pages, replicas
from store import db, event_view, eventstore, product_rows, registry
from store.schema import commands, events, product_versions, products, projections

EVENTS_DEFAULT, EVENTS_MAX = 100, 1000
PRODUCTS = "products"  # the projection these reads are served from


def as_uuid(value: str) -> str | None:
    """`value` as a canonical UUID, or None: every id this API gives out is one."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _product(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A product row (of `products`, `product_versions` or a replay) as the API shows it."""
    return {
        "id": row["id"],
        "sku": row["sku"],
        "name": row["name"],
        "description": row["description"],
        "categories": product_rows.split(row["categories"]),
        "price": {"amount": row["price_amount"], "currency": row["price_currency"]},
        "version": row["version"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def decode_token(token: str, field: str = "consistentWith") -> int:
    """The global position a consistency token or event cursor names (a position in decimal)."""
    if token.isascii() and token.isdigit() and len(token) < 20 and int(token) < pages.POSITION_LIMIT:
        return int(token)
    raise UserInputError(f"{field} is not a token this API gave out")


def product(
    url: str, product_id: str, as_of: datetime | None = None, version: int | None = None
) -> dict[str, Any] | None:
    """The product now (from the read table), or as it was at an instant or a version, rebuilt
    from its events (a deleted product as it was before its deletion; None before it existed)."""
    key = as_uuid(product_id)
    if as_of is not None and version is not None:
        raise UserInputError("give asOf or version, not both")
    if version is not None and not 0 < version < pages.POSITION_LIMIT:
        raise UserInputError("version must be a positive number")
    if key is None:
        return None
    if as_of is None and version is None:
        with replicas.reading(url) as connection:
            row = connection.execute(select(products).where(products.c.id == key)).first()
        return None if row is None else _product(row._mapping)
    query = select(events).where(events.c.stream_id == key)
    if version is not None:
        query = query.where(events.c.version <= version)
    if as_of is not None:
        query = query.where(events.c.recorded_at <= as_of)
    with replicas.reading(url) as connection:
        stream = [eventstore.recorded(row) for row in connection.execute(query.order_by(events.c.version))]
    shown = product_rows.last_shown((recorded, registry.decode_event(recorded)) for recorded in stream)
    return None if shown is None else _product(shown)


def product_page(
    url: str,
    first: int | None,
    after: str | None,
    given: dict[str, Any] | None = None,
    order_by: dict[str, Any] | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """A page of the catalog (`api.read.catalog`): the live one, or the one at instant `as_of`, read
    from the product versions that held then."""
    if as_of is None:
        table, held = products, []
    else:
        table = product_versions
        held = [
            product_versions.c.valid_from <= as_of,
            or_(product_versions.c.valid_to.is_(None), product_versions.c.valid_to > as_of),
        ]
    conditions = [*held, *catalog.filters(table, given)]
    found = pages.page(url, table, catalog.PRODUCTS, first, after, order_by, conditions)
    found["edges"] = [
        {"cursor": edge["cursor"], "node": _product(edge["row"]._mapping)} for edge in found["edges"]
    ]
    return found


def command(url: str, command_id: str) -> dict[str, Any] | None:
    key = as_uuid(command_id)
    if key is None:
        return None
    with db.reading(url) as connection:
        row = connection.execute(select(commands).where(commands.c.id == key)).first()
        if row is None:
            return None
        passed = connection.execute(select(func.min(projections.c.position))).scalar()
    return command_row(row, passed or 0)


def command_row(row: Any, passed: int | None) -> dict[str, Any]:
    """A mailbox row as the API shows it; `passed` is the position every projection has passed
    (None: unknown, so `visible` says only whether it is handled and appended nothing)."""
    handled = row.status != "PENDING"
    return {
        "id": row.id,
        "type": row.type,
        "aggregateId": row.aggregate_id,
        "status": row.status,
        "error": row.error,
        "submittedAt": row.submitted_at,
        "completedAt": row.completed_at,
        "token": None if row.position is None else str(row.position),
        "actor": row.actor,
        "visible": handled and (row.position is None or (passed or 0) >= row.position),
        "correlationId": row.correlation_id,
        "causationId": row.causation_id,
    }


def history(url: str, stream_id: str, first: int | None, after: int | None) -> list[dict[str, Any]]:
    """The stream's events after version `after`, oldest first (all of them unless `first`)."""
    key = as_uuid(stream_id)
    limit = None if first is None else pages.bounded(first, EVENTS_DEFAULT, EVENTS_MAX)
    if key is None or limit == 0:
        return []
    query = select(events).where(events.c.stream_id == key, events.c.version > (after or 0))
    with replicas.reading(url) as connection:
        rows = connection.execute(query.order_by(events.c.version).limit(limit)).all()
    return [event(eventstore.recorded(row)) for row in rows]


def event_page(
    url: str, after: str | None, first: int | None, types: list[str] | None, stream_id: str | None
) -> dict[str, Any]:
    """Events in commit order after the position `after`: gap-free, since positions are assigned
    in commit order (see `store.eventstore`)."""
    first = pages.bounded(first, EVENTS_DEFAULT, EVENTS_MAX)
    start = decode_token(after, "after") if after else 0
    rows = event_rows(url, start, None, types, stream_id, first + 1)
    edges = [{"cursor": str(row.position), "node": event(row)} for row in rows[:first]]
    return {
        "edges": edges,
        "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None},
    }


def event_rows(
    url: str, after: int, until: int | None, types: list[str] | None, stream_id: str | None, limit: int
) -> list[eventstore.RecordedEvent]:
    """Up to `limit` events after position `after` (and up to `until`), in commit order, upcast."""
    query = select(events).where(events.c.position > after)
    if until is not None:
        query = query.where(events.c.position <= until)
    if types is not None:
        query = query.where(events.c.type.in_(types))
    if stream_id is not None:
        query = query.where(events.c.stream_id == (as_uuid(stream_id) or ""))
    with replicas.reading(url) as connection:
        rows = connection.execute(query.order_by(events.c.position).limit(limit)).all()
    return [eventstore.recorded(row) for row in rows]


def event(row: eventstore.RecordedEvent) -> dict[str, Any]:
    """An event as the API shows it (`store.event_view`)."""
    return event_view.shown(row)
