"""Reads for the API: read tables, the command mailbox and (for history) the event store."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from sqlalchemy import Row, func, select

from api.errors import UserInputError
from store import db, eventstore
from store.schema import commands, products, projections

PAGE_DEFAULT, PAGE_MAX = 20, 100
POSITION_LIMIT = 2**63
PRODUCTS = "products"  # the projection these reads are served from


def _uuid(value: str) -> str | None:
    """`value` as a canonical UUID, or None: every id this API gives out is one."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _product(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "sku": row.sku,
        "name": row.name,
        "description": row.description,
        "price": {"amount": row.price_amount, "currency": row.price_currency},
        "version": row.version,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    }


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"product:{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, position = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "product" and position.isdigit() and int(position) < POSITION_LIMIT:
            return int(position)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise UserInputError("after is not a cursor this API gave out")


def decode_token(token: str) -> int:
    """The global position a consistency token names (tokens are positions written in decimal)."""
    if token.isdigit() and len(token) < 20 and int(token) < POSITION_LIMIT:
        return int(token)
    raise UserInputError("consistentWith is not a token this API gave out")


def product(url: str, product_id: str) -> dict[str, Any] | None:
    key = _uuid(product_id)
    if key is None:
        return None
    with db.reading(url) as connection:
        row = connection.execute(select(products).where(products.c.id == key)).first()
    return None if row is None else _product(row)


def product_page(url: str, first: int | None, after: str | None) -> dict[str, Any]:
    """A page of products in creation order; cursors stay valid whatever is created or deleted."""
    first = PAGE_DEFAULT if first is None else first
    if not 0 <= first <= PAGE_MAX:
        raise UserInputError(f"first must be between 0 and {PAGE_MAX}")
    start = decode_cursor(after) if after else 0
    with db.reading(url) as connection:
        rows = connection.execute(
            select(products)
            .where(products.c.created_position > start)
            .order_by(products.c.created_position)
            .limit(first + 1)
        ).all()
        total = connection.execute(select(func.count()).select_from(products)).scalar_one()
    edges = [{"cursor": encode_cursor(row.created_position), "node": _product(row)} for row in rows[:first]]
    return {
        "edges": edges,
        "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None},
        "totalCount": total,
    }


def command(url: str, command_id: str) -> dict[str, Any] | None:
    key = _uuid(command_id)
    if key is None:
        return None
    with db.reading(url) as connection:
        row = connection.execute(select(commands).where(commands.c.id == key)).first()
        if row is None:
            return None
        passed = connection.execute(select(func.min(projections.c.position))).scalar()
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
        "visible": handled and (row.position is None or (passed or 0) >= row.position),
    }


def history(url: str, stream_id: str) -> list[dict[str, Any]]:
    key = _uuid(stream_id)
    if key is None:
        return []
    with db.reading(url) as connection:
        stream = eventstore.read_stream(connection, key)
    return [
        {
            "streamId": event.stream_id,
            "version": event.version,
            "type": event.type,
            "data": event.data,
            "recordedAt": event.recorded_at,
        }
        for event in stream
    ]
