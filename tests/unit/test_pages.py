"""Cursors belong to their connection type and ordering: one type's cursor is refused by another."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from api.graphql.errors import UserInputError
from api.read.catalog import PRODUCTS
from api.read.pages import Keyset, Order, decode_cursor, encode_cursor

ORDERS = Keyset("order")
ROW = SimpleNamespace(
    created_position=42, name="Mug", price_amount=1299, updated_at=datetime(2026, 1, 2, tzinfo=UTC)
)


@pytest.mark.parametrize(
    "order",
    [Order(), Order("CREATED_AT", True), Order("NAME", True), Order("PRICE"), Order("UPDATED_AT", True)],
)
def test_a_cursor_round_trips_for_its_own_type_and_ordering(order: Order) -> None:
    value, position = decode_cursor(encode_cursor(ROW, PRODUCTS, order), PRODUCTS, order)
    assert position == 42
    assert value == (None if order.field == "CREATED_AT" else getattr(ROW, PRODUCTS.fields[order.field][0]))


def test_another_types_cursor_is_refused() -> None:
    for order in (Order(), Order("NAME")):
        cursor = encode_cursor(ROW, PRODUCTS, order)
        with pytest.raises(UserInputError, match="not a cursor this API gave out for this list"):
            decode_cursor(cursor, ORDERS, Order())


def test_a_cursor_of_another_ordering_is_refused() -> None:
    with pytest.raises(UserInputError, match="another ordering"):
        decode_cursor(encode_cursor(ROW, PRODUCTS, Order("NAME")), PRODUCTS, Order("PRICE"))
