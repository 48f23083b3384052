"""Keyset pages, for every connection type.

A cursor holds the sort value and the creation position of the last row given, so a page costs an
index range scan however deep it is, and a cursor stays valid whatever is created, changed or
deleted meanwhile. Each connection type has its `Keyset`: its cursors carry its kind, so one
type's cursor is refused by another, and a cursor belongs to the ordering it was given for. The
total is counted only when a client asks for it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select, tuple_

from api.graphql.errors import UserInputError
from api.read import replicas

POSITION_LIMIT = 2**63
CREATED_AT = "CREATED_AT"  # the ordering every connection has: by creation position
DIRECTIONS = ("ASC", "DESC")


@dataclass(frozen=True)
class Keyset:
    """How one connection type pages: the kind its cursors carry, the orderings it offers besides
    creation (name -> column and the type of its values) and its page sizes."""

    kind: str
    fields: dict[str, tuple[str, type]] = field(default_factory=dict)
    default_size: int = 20
    max_size: int = 100
    position: str = "created_position"

    def order_names(self) -> set[str]:
        return {f"{name}:{direction}" for name in (CREATED_AT, *self.fields) for direction in DIRECTIONS}


@dataclass(frozen=True)
class Order:
    field: str = CREATED_AT
    descending: bool = False

    @classmethod
    def of(cls, order_by: dict[str, Any] | None) -> Order:
        if not order_by:
            return cls()
        return cls(order_by["field"], order_by.get("direction") == "DESC")

    @property
    def name(self) -> str:
        return f"{self.field}:{'DESC' if self.descending else 'ASC'}"


def bounded(first: int | None, default: int, most: int) -> int:
    """A page size: `default` when not given, else between 0 and `most` or a BAD_USER_INPUT error."""
    first = default if first is None else first
    if not 0 <= first <= most:
        raise UserInputError(f"first must be between 0 and {most}")
    return first


def page_query(
    table: Table, keyset: Keyset, conditions: list[ColumnElement[bool]], order: Order, after: str | None
) -> Any:
    """The SELECT of a page (without its LIMIT)."""
    position = table.c[keyset.position]
    query = select(table).where(*conditions)
    if order.field == CREATED_AT:
        if after is not None:
            _value, last = decode_cursor(after, keyset, order)
            query = query.where(position < last if order.descending else position > last)
        return query.order_by(position.desc() if order.descending else position.asc())
    key = table.c[keyset.fields[order.field][0]]
    if after is not None:
        value, last = decode_cursor(after, keyset, order)
        mark = tuple_(key, position)
        query = query.where(mark < tuple_(value, last) if order.descending else mark > tuple_(value, last))
    return query.order_by(*(c.desc() if order.descending else c.asc() for c in (key, position)))


def page(
    url: str,
    table: Table,
    keyset: Keyset,
    first: int | None,
    after: str | None,
    order_by: dict[str, Any] | None = None,
    conditions: list[ColumnElement[bool]] | None = None,
) -> dict[str, Any]:
    """A page of rows of `table` that meet `conditions`: edges (cursor, row), pageInfo, and what
    `count` needs to count them all."""
    first = bounded(first, keyset.default_size, keyset.max_size)
    order = Order.of(order_by)
    where = list(conditions or [])
    query = page_query(table, keyset, where, order, after)
    with replicas.reading(url) as connection:
        rows = connection.execute(query.limit(first + 1)).all()
    edges = [{"cursor": encode_cursor(row, keyset, order), "row": row} for row in rows[:first]]
    return {
        "edges": edges,
        "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None},
        "count": (url, table, where),
    }


def count(url: str, table: Table, where: list[ColumnElement[bool]]) -> int:
    with replicas.reading(url) as connection:
        total: int = connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    return total


def encode_cursor(row: Any, keyset: Keyset, order: Order) -> str:
    position = getattr(row, keyset.position)
    if order == Order():
        text = f"{keyset.kind}:{position}"
    else:
        value = position if order.field == CREATED_AT else getattr(row, keyset.fields[order.field][0])
        shown = value.isoformat() if isinstance(value, datetime) else value
        text = f"{keyset.kind}s:" + json.dumps([order.name, shown, position])
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_cursor(cursor: str, keyset: Keyset, order: Order) -> tuple[Any, int]:
    """The sort value and the creation position a cursor holds, for `order`."""
    foreign = UserInputError("after is not a cursor this API gave out for this list")
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        kind, _, rest = text.partition(":")
        if kind == keyset.kind and rest.isascii() and rest.isdigit() and int(rest) < POSITION_LIMIT:
            found: tuple[str, Any, Any] = (Order().name, None, int(rest))
        elif kind == f"{keyset.kind}s":
            name, value, position = json.loads(rest)
            found = (name, value, position)
        else:
            raise foreign
    except (binascii.Error, UnicodeError, ValueError, TypeError):
        raise foreign from None
    name, value, position = found
    if name not in keyset.order_names():
        raise foreign
    if name != order.name:
        raise UserInputError(f"after is a cursor of another ordering ({name}, not {order.name})")
    if not isinstance(position, int) or not 0 <= position < POSITION_LIMIT:
        raise foreign
    return _sort_value(keyset, order.field, value, foreign), position


def _sort_value(keyset: Keyset, field: str, value: Any, foreign: UserInputError) -> Any:
    if field == CREATED_AT:
        return None
    kind = keyset.fields[field][1]
    try:
        if kind is datetime and isinstance(value, str):
            return datetime.fromisoformat(value)
        if (
            kind is int
            and isinstance(value, int)
            and not isinstance(value, bool)
            and abs(value) < POSITION_LIMIT
        ):
            return value
        if kind is str and isinstance(value, str):
            return value
    except ValueError:
        pass
    raise foreign
