"""The catalog: products filtered, sorted and paged.

Pages are keyset pages: a cursor holds the sort value and the creation position of the last
product given, so a page costs an index range scan however deep it is, and a cursor stays valid
whatever is created, changed or deleted meanwhile. A cursor belongs to the ordering it was given
for. The total is counted only when a client asks for it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, func, or_, select, tuple_

from api.errors import UserInputError
from store import db

PAGE_DEFAULT, PAGE_MAX = 20, 100
SEARCH_MAX = 100
POSITION_LIMIT = 2**63
CREATED_AT = "CREATED_AT"
FIELDS = {"NAME": "name", "PRICE": "price_amount", "UPDATED_AT": "updated_at", CREATED_AT: "created_position"}


ORDER_NAMES = {f"{field}:{direction}" for field in FIELDS for direction in ("ASC", "DESC")}


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


def filters(table: Table, given: dict[str, Any] | None) -> list[ColumnElement[bool]]:
    """The SQL conditions of a `ProductFilter`."""
    given = given or {}
    found: list[ColumnElement[bool]] = []
    if search := given.get("search"):
        if len(search) > SEARCH_MAX:
            raise UserInputError(f"search must be at most {SEARCH_MAX} characters")
        pattern = f"%{_escaped(search)}%"
        found.append(or_(table.c.name.ilike(pattern, escape="\\"), table.c.sku.ilike(pattern, escape="\\")))
    if prefix := given.get("skuPrefix"):
        if len(prefix) > SEARCH_MAX:
            raise UserInputError(f"skuPrefix must be at most {SEARCH_MAX} characters")
        found.append(table.c.sku.ilike(f"{_escaped(prefix)}%", escape="\\"))
    if given.get("currency") is not None:
        found.append(table.c.price_currency == given["currency"].upper())
    if given.get("priceMin") is not None:
        found.append(table.c.price_amount >= given["priceMin"])
    if given.get("priceMax") is not None:
        found.append(table.c.price_amount <= given["priceMax"])
    return found


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page_query(table: Table, conditions: list[ColumnElement[bool]], order: Order, after: str | None) -> Any:
    """The SELECT of a page (without its LIMIT)."""
    position = table.c.created_position
    key = table.c[FIELDS[order.field]]
    query = select(table).where(*conditions)
    if after is not None:
        value, last = decode_cursor(after, order)
        if order.field == CREATED_AT:
            query = query.where(position < last if order.descending else position > last)
        else:
            mark = tuple_(key, position)
            query = query.where(
                mark < tuple_(value, last) if order.descending else mark > tuple_(value, last)
            )
    columns = [position] if order.field == CREATED_AT else [key, position]
    return query.order_by(*(c.desc() if order.descending else c.asc() for c in columns))


def page(
    url: str,
    table: Table,
    first: int | None,
    after: str | None,
    given: dict[str, Any] | None,
    order_by: dict[str, Any] | None,
    conditions: list[ColumnElement[bool]] | None = None,
) -> dict[str, Any]:
    """A page of rows of `table` (the live products or their versions at an instant)."""
    first = bounded(first, PAGE_DEFAULT, PAGE_MAX)
    order = Order.of(order_by)
    where = [*(conditions or []), *filters(table, given)]
    query = page_query(table, where, order, after)
    with db.reading(url) as connection:
        rows = connection.execute(query.limit(first + 1)).all()
    edges = [{"cursor": encode_cursor(row, order), "row": row} for row in rows[:first]]
    return {
        "edges": edges,
        "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None},
        "count": (url, table, where),
    }


def count(url: str, table: Table, where: list[ColumnElement[bool]]) -> int:
    with db.reading(url) as connection:
        total: int = connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    return total


def encode_cursor(row: Any, order: Order) -> str:
    if order == Order():
        text = f"product:{row.created_position}"
    else:
        value = getattr(row, FIELDS[order.field])
        shown = value.isoformat() if isinstance(value, datetime) else value
        text = "products:" + json.dumps([order.name, shown, row.created_position])
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_cursor(cursor: str, order: Order) -> tuple[Any, int]:
    """The sort value and the creation position a cursor holds, for `order`."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        kind, _, rest = text.partition(":")
        if kind == "product" and rest.isascii() and rest.isdigit() and int(rest) < POSITION_LIMIT:
            found: tuple[str, Any, Any] = (Order().name, None, int(rest))
        elif kind == "products":
            name, value, position = json.loads(rest)
            found = (name, value, position)
        else:
            raise ValueError(kind)
    except (binascii.Error, UnicodeError, ValueError, TypeError):
        raise UserInputError("after is not a cursor this API gave out") from None
    name, value, position = found
    if name not in ORDER_NAMES:
        raise UserInputError("after is not a cursor this API gave out")
    if name != order.name:
        raise UserInputError(f"after is a cursor of another ordering ({name}, not {order.name})")
    if not isinstance(position, int) or not 0 <= position < POSITION_LIMIT:
        raise UserInputError("after is not a cursor this API gave out")
    return _sort_value(order.field, value), position


def _sort_value(field: str, value: Any) -> Any:
    try:
        if field == "NAME" and isinstance(value, str):
            return value
        if field == "PRICE" and isinstance(value, int) and abs(value) < POSITION_LIMIT:
            return value
        if field == "UPDATED_AT" and isinstance(value, str):
            return datetime.fromisoformat(value)
        if field == CREATED_AT:
            return None
    except ValueError:
        pass
    raise UserInputError("after is not a cursor this API gave out")
