"""Given what the process manager knows of an order, when an event, then the commands it issues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.money import Money
from domain.order import (
    ExpireOrder,
    MarkOrderReserved,
    OrderCancelled,
    OrderExpired,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    RejectOrder,
)
from domain.order_process import (
    AWAITING_PAYMENT,
    ENDED,
    OrderProcess,
    on_deadline,
    react,
)
from domain.stock import CommitStock, ReleaseStock, ReserveStock, StockReservationRefused, StockReserved

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TIMEOUT = timedelta(minutes=15)
LINES = (OrderLine("MUG-1", 2, Money(100, "EUR")), OrderLine("CUP-2", 1, Money(50, "EUR")))
PLACED = OrderPlaced("o1", "c1", "alice", LINES, Money(250, "EUR"), AT)


def given(*events: object) -> OrderProcess:
    state = OrderProcess()
    for event in events:
        state = react(state, event, TIMEOUT).state
    return state


def then(state: OrderProcess, event: object) -> list[object]:
    return react(state, event, TIMEOUT).commands


MUG_HELD, CUP_HELD = StockReserved("MUG-1", "o1", 2, AT), StockReserved("CUP-2", "o1", 1, AT)


def test_a_placed_order_reserves_each_line() -> None:
    assert then(given(), PLACED) == [ReserveStock("MUG-1", "o1", 2, AT), ReserveStock("CUP-2", "o1", 1, AT)]
    assert then(given(PLACED), PLACED) == []  # the same event again issues nothing


def test_the_last_line_reserved_marks_the_order_reserved_with_its_deadline() -> None:
    assert then(given(PLACED), MUG_HELD) == []
    assert then(given(PLACED, MUG_HELD), CUP_HELD) == [MarkOrderReserved("o1", AT + TIMEOUT, AT)]
    state = given(PLACED, MUG_HELD, CUP_HELD)
    assert (state.phase, state.payment_due_at) == (AWAITING_PAYMENT, AT + TIMEOUT)


def test_a_refused_line_rejects_the_order_and_releases_what_was_held() -> None:
    refused = StockReservationRefused("CUP-2", "o1", 1, 0, AT)
    assert then(given(PLACED, MUG_HELD), refused) == [
        RejectOrder("o1", "CUP-2: 1 asked, 0 available", AT),
        ReleaseStock("MUG-1", "o1", AT),
    ]
    assert given(PLACED, MUG_HELD, refused).phase == ENDED


def test_a_reservation_after_the_order_failed_is_released_at_once() -> None:
    refused = StockReservationRefused("CUP-2", "o1", 1, 0, AT)
    assert then(given(PLACED, refused), MUG_HELD) == [ReleaseStock("MUG-1", "o1", AT)]
    cancelled = OrderCancelled("o1", None, AT)
    assert then(given(PLACED, cancelled), CUP_HELD) == [ReleaseStock("CUP-2", "o1", AT)]


def test_payment_commits_every_line_and_disarms_the_deadline() -> None:
    paid = OrderPaid("o1", Money(250, "EUR"), AT)
    state = given(PLACED, MUG_HELD, CUP_HELD)
    assert then(state, paid) == [CommitStock("MUG-1", "o1", AT), CommitStock("CUP-2", "o1", AT)]
    assert given(PLACED, MUG_HELD, CUP_HELD, paid).payment_due_at is None


def test_cancelled_or_expired_releases_every_line_once() -> None:
    for ended in (OrderCancelled("o1", "no", AT), OrderExpired("o1", AT)):
        state = given(PLACED, MUG_HELD, CUP_HELD)
        assert then(state, ended) == [ReleaseStock("MUG-1", "o1", AT), ReleaseStock("CUP-2", "o1", AT)]
        assert then(given(PLACED, MUG_HELD, CUP_HELD, ended), ended) == []


def test_a_due_deadline_expires_an_order_still_waiting_for_payment() -> None:
    state = given(PLACED, MUG_HELD, CUP_HELD)
    assert on_deadline(state, AT + TIMEOUT - timedelta(seconds=1)) == []
    assert on_deadline(state, AT + TIMEOUT) == [ExpireOrder("o1", AT + TIMEOUT)]
    assert (
        on_deadline(given(PLACED, MUG_HELD, CUP_HELD, OrderPaid("o1", Money(250, "EUR"), AT)), AT + TIMEOUT)
        == []
    )


def test_events_of_an_order_it_never_saw_placed_issue_nothing() -> None:
    assert then(given(), MUG_HELD) == []
    assert then(given(), OrderCancelled("o1", None, AT)) == []
