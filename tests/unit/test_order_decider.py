"""Given events, when a command, then events or a rejection: the rules of the Order aggregate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.decider import Rejected
from domain.money import Money
from domain.order import (
    CancelOrder,
    ExpireOrder,
    MarkOrderReserved,
    OrderCancelled,
    OrderCommand,
    OrderEvent,
    OrderExpired,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    OrderRejected,
    OrderReserved,
    PayOrder,
    PlaceOrder,
    RejectOrder,
    decide,
    decider,
)

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DUE = AT + timedelta(minutes=15)
LINES = (OrderLine("MUG-1", 2, Money(1299, "EUR")), OrderLine("CUP-2", 1, Money(500, "EUR")))
TOTAL = Money(3098, "EUR")
PLACED = OrderPlaced("o1", "c1", "alice", LINES, TOTAL, AT)
RESERVED = OrderReserved("o1", DUE, AT)


def then(given: list[OrderEvent], when: OrderCommand) -> list[OrderEvent]:
    return decide(when, decider.fold(given))


def rejected(given: list[OrderEvent], when: OrderCommand) -> str:
    with pytest.raises(Rejected) as raised:
        then(given, when)
    return str(raised.value)


def test_placing_an_order_totals_its_lines() -> None:
    assert then([], PlaceOrder("o1", "c1", "alice", LINES, AT)) == [PLACED]
    assert rejected([PLACED], PlaceOrder("o1", "c1", "alice", LINES, AT)) == "order already placed"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((), "an order needs 1 to 50 lines"),
        (tuple(OrderLine(f"SKU-{n}", 1, Money(1, "EUR")) for n in range(51)), "an order needs 1 to 50 lines"),
        ((OrderLine("MUG-1", 0, Money(1, "EUR")),), "quantity must be a whole number from 1"),
        ((OrderLine("MUG-1", -2, Money(1, "EUR")),), "quantity must be a whole number from 1"),
        ((OrderLine("mug 1", 1, Money(1, "EUR")),), "sku must be 1-32 characters"),
        ((LINES[0], LINES[0]), "each sku may appear in one line only"),
        ((LINES[0], OrderLine("CUP-2", 1, Money(5, "USD"))), "every line must be priced in one currency"),
    ],
    ids=[
        "no lines",
        "51 lines",
        "zero quantity",
        "negative quantity",
        "bad sku",
        "duplicate sku",
        "mixed currencies",
    ],
)
def test_bad_lines_are_rejected_before_anything_is_placed(lines: tuple[OrderLine, ...], message: str) -> None:
    assert message in rejected([], PlaceOrder("o1", "c1", "alice", lines, AT))


def test_the_process_manager_marks_a_placed_order_reserved_or_rejected_once() -> None:
    assert then([PLACED], MarkOrderReserved("o1", DUE, AT)) == [RESERVED]
    assert then([PLACED, RESERVED], MarkOrderReserved("o1", DUE, AT)) == []
    assert then([PLACED], RejectOrder("o1", "MUG-1: 2 asked, 1 available", AT)) == [
        OrderRejected("o1", "MUG-1: 2 asked, 1 available", AT)
    ]
    cancelled = OrderCancelled("o1", None, AT)
    assert then([PLACED, cancelled], MarkOrderReserved("o1", DUE, AT)) == []  # cancelled meanwhile


def test_a_reserved_order_is_paid_with_its_exact_total_by_whoever_placed_it() -> None:
    assert then([PLACED, RESERVED], PayOrder("o1", TOTAL, "alice", AT)) == [OrderPaid("o1", TOTAL, AT)]
    assert then([PLACED, RESERVED], PayOrder("o1", TOTAL, None, AT)) == [OrderPaid("o1", TOTAL, AT)]  # admin
    assert "must equal the order's total, 3098 EUR" in rejected(
        [PLACED, RESERVED], PayOrder("o1", Money(3000, "EUR"), "alice", AT)
    )
    assert "only whoever placed an order" in rejected(
        [PLACED, RESERVED], PayOrder("o1", TOTAL, "mallory", AT)
    )
    assert "not awaiting payment" in rejected([PLACED], PayOrder("o1", TOTAL, "alice", AT))


def test_cancelling_is_for_the_placer_and_not_once_settled_otherwise() -> None:
    cancel = CancelOrder("o1", "changed my mind", "alice", AT)
    assert then([PLACED, RESERVED], cancel) == [OrderCancelled("o1", "changed my mind", AT)]
    assert then([PLACED, RESERVED, OrderPaid("o1", TOTAL, AT)], cancel) == [
        OrderCancelled("o1", "changed my mind", AT)
    ]
    assert "only whoever placed an order" in rejected([PLACED], CancelOrder("o1", None, "mallory", AT))
    expired = OrderExpired("o1", AT)
    assert "the order is EXPIRED already" in rejected([PLACED, RESERVED, expired], cancel)


def test_an_order_expires_only_while_it_waits_for_payment() -> None:
    assert then([PLACED, RESERVED], ExpireOrder("o1", DUE)) == [OrderExpired("o1", DUE)]
    assert then([PLACED, RESERVED, OrderPaid("o1", TOTAL, AT)], ExpireOrder("o1", DUE)) == []
    assert then([PLACED], ExpireOrder("o1", DUE)) == []


def test_an_unknown_order_cannot_be_paid_or_cancelled() -> None:
    assert rejected([], PayOrder("o1", TOTAL, "alice", AT)) == "order not found"
    assert rejected([], CancelOrder("o1", None, None, AT)) == "order not found"
