"""Given events, when a command, then events or a rejection: the rules of the Stock aggregate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.decider import Rejected
from domain.stock import (
    CommitStock,
    ReceiveStock,
    ReleaseStock,
    ReserveStock,
    StockCommand,
    StockCommitted,
    StockEvent,
    StockReceived,
    StockReleased,
    StockReservationRefused,
    StockReserved,
    decide,
    decider,
    stock_id,
)

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SKU = "MUG-1"


def then(given: list[StockEvent], when: StockCommand) -> list[StockEvent]:
    return decide(when, decider.fold(given))


RECEIVED_5 = StockReceived(SKU, 5, AT)
O1_HOLDS_3 = StockReserved(SKU, "o1", 3, AT)


def test_received_units_are_on_hand() -> None:
    assert then([], ReceiveStock(SKU, 5, AT)) == [RECEIVED_5]
    state = decider.fold([RECEIVED_5, StockReceived(SKU, 2, AT)])
    assert (state.on_hand, state.reserved, state.available) == (7, 0, 7)


def test_an_order_reserves_what_is_available() -> None:
    assert then([RECEIVED_5], ReserveStock(SKU, "o1", 3, AT)) == [O1_HOLDS_3]
    assert decider.fold([RECEIVED_5, O1_HOLDS_3]).available == 2


def test_a_reservation_beyond_what_is_available_is_refused_as_an_event_and_holds_nothing() -> None:
    refused = then([RECEIVED_5, O1_HOLDS_3], ReserveStock(SKU, "o2", 3, AT))
    assert refused == [StockReservationRefused(SKU, "o2", 3, 2, AT)]
    assert decider.fold([RECEIVED_5, O1_HOLDS_3, *refused]).reserved == 3


def test_reserving_again_for_the_same_order_changes_nothing() -> None:
    assert then([RECEIVED_5, O1_HOLDS_3], ReserveStock(SKU, "o1", 3, AT)) == []


def test_a_release_gives_the_units_back_once() -> None:
    released = StockReleased(SKU, "o1", 3, AT)
    assert then([RECEIVED_5, O1_HOLDS_3], ReleaseStock(SKU, "o1", AT)) == [released]
    assert then([RECEIVED_5, O1_HOLDS_3, released], ReleaseStock(SKU, "o1", AT)) == []
    assert then([RECEIVED_5], ReleaseStock(SKU, "never", AT)) == []
    assert decider.fold([RECEIVED_5, O1_HOLDS_3, released]).available == 5


def test_a_commit_keeps_the_units_reserved_and_happens_once() -> None:
    committed = StockCommitted(SKU, "o1", 3, AT)
    assert then([RECEIVED_5, O1_HOLDS_3], CommitStock(SKU, "o1", AT)) == [committed]
    assert then([RECEIVED_5, O1_HOLDS_3, committed], CommitStock(SKU, "o1", AT)) == []
    assert decider.fold([RECEIVED_5, O1_HOLDS_3, committed]).reserved == 3


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (ReceiveStock(SKU, 0, AT), "quantity must be a whole number from 1 to 1000000"),
        (ReceiveStock(SKU, -4, AT), "quantity must be a whole number from 1 to 1000000"),
        (ReserveStock("bad sku", "o1", 1, AT), "sku must be 1-32 characters"),
    ],
)
def test_bad_input_is_rejected(command: StockCommand, message: str) -> None:
    with pytest.raises(Rejected, match=message):
        then([RECEIVED_5], command)


def test_the_stream_of_a_sku_is_one_uuid_whoever_asks() -> None:
    assert stock_id(SKU) == stock_id("MUG-1") != stock_id("MUG-2")
    assert decider.id_of(ReserveStock(SKU, "o1", 1, AT)) == stock_id(SKU)


STEPS = st.tuples(
    st.sampled_from(["receive", "reserve", "release", "commit"]), st.integers(1, 4), st.integers(1, 9)
)


@given(st.lists(STEPS))
def test_reserved_never_exceeds_on_hand(steps: list[tuple[str, int, int]]) -> None:
    history: list[StockEvent] = []
    for kind, order, quantity in steps:
        commands: dict[str, StockCommand] = {
            "receive": ReceiveStock(SKU, quantity, AT),
            "reserve": ReserveStock(SKU, f"o{order}", quantity, AT),
            "release": ReleaseStock(SKU, f"o{order}", AT),
            "commit": CommitStock(SKU, f"o{order}", AT),
        }
        command = commands[kind]
        history += then(history, command)
        state = decider.fold(history)
        assert 0 <= state.reserved <= state.on_hand
