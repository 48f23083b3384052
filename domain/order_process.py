"""The order process manager, as pure reactions: given what it knows of an order and one event,
what it knows next and the commands it issues.

OrderPlaced -> reserve each line. Every line reserved -> the order is RESERVED, payment due after
the payment timeout (a deadline). A line refused -> the order is REJECTED and what was held is
released. Paid -> the stock is committed. Cancelled or expired -> everything is released. A
reservation that arrives after the order failed is released at once. The deadline, once due,
expires the order (`on_deadline`); the order ignores it if it was paid or cancelled meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from domain.order import (
    ExpireOrder,
    MarkOrderReserved,
    OrderCancelled,
    OrderExpired,
    OrderPaid,
    OrderPlaced,
    OrderRejected,
    RejectOrder,
)
from domain.stock import CommitStock, ReleaseStock, ReserveStock, StockReservationRefused, StockReserved

RESERVING, AWAITING_PAYMENT, CONFIRMED, ENDED = "RESERVING", "AWAITING_PAYMENT", "CONFIRMED", "ENDED"


@dataclass(frozen=True)
class OrderProcess:
    """What the process manager knows of one order."""

    order_id: str = ""
    lines: tuple[tuple[str, int], ...] = ()  # (sku, quantity)
    reserved: tuple[str, ...] = ()  # skus whose stock is held for it
    phase: str | None = None  # None until placed
    payment_due_at: datetime | None = None  # the armed deadline, if any


@dataclass(frozen=True)
class Reaction:
    state: OrderProcess
    commands: list[Any]


HANDLES = (
    OrderPlaced,
    StockReserved,
    StockReservationRefused,
    OrderPaid,
    OrderCancelled,
    OrderExpired,
    OrderRejected,
)


def order_of(event: Any) -> str:
    """The order an event concerns (every event `react` handles names one)."""
    return str(event.order_id)


def react(state: OrderProcess, event: Any, payment_timeout: timedelta) -> Reaction:
    """The process manager's next state and the commands `event` makes it issue."""
    match event:
        case OrderPlaced():
            if state.phase is not None:
                return Reaction(state, [])
            lines = tuple((line.sku, line.quantity) for line in event.lines)
            placed = OrderProcess(event.order_id, lines, (), RESERVING)
            return Reaction(placed, [ReserveStock(sku, event.order_id, qty, event.at) for sku, qty in lines])
        case StockReserved():
            return _reserved(state, event, payment_timeout)
        case StockReservationRefused():
            if state.phase != RESERVING:
                return Reaction(state, [])
            reason = f"{event.sku}: {event.quantity} asked, {event.available} available"
            releases = [ReleaseStock(sku, state.order_id, event.at) for sku in state.reserved]
            return Reaction(_ended(state), [RejectOrder(state.order_id, reason, event.at), *releases])
        case OrderPaid():
            if state.phase != AWAITING_PAYMENT:
                return Reaction(state, [])
            confirmed = replace(state, phase=CONFIRMED, payment_due_at=None)
            return Reaction(confirmed, [CommitStock(sku, state.order_id, event.at) for sku, _ in state.lines])
        case OrderCancelled() | OrderExpired():
            if state.phase is None or state.phase == ENDED:
                return Reaction(state, [])
            releases = [ReleaseStock(sku, state.order_id, event.at) for sku, _ in state.lines]
            return Reaction(_ended(state), releases)
        case OrderRejected():
            return Reaction(_ended(state) if state.phase is not None else state, [])
    return Reaction(state, [])


def _reserved(state: OrderProcess, event: StockReserved, payment_timeout: timedelta) -> Reaction:
    if state.phase is None:
        return Reaction(state, [])
    if state.phase == ENDED:  # it failed before this line's stock was held: give it back
        return Reaction(state, [ReleaseStock(event.sku, state.order_id, event.at)])
    held = replace(state, reserved=tuple(dict.fromkeys((*state.reserved, event.sku))))
    if state.phase != RESERVING or set(held.reserved) != {sku for sku, _ in state.lines}:
        return Reaction(held, [])
    due = event.at + payment_timeout
    waiting = replace(held, phase=AWAITING_PAYMENT, payment_due_at=due)
    return Reaction(waiting, [MarkOrderReserved(state.order_id, due, event.at)])


def _ended(state: OrderProcess) -> OrderProcess:
    return replace(state, phase=ENDED, payment_due_at=None, reserved=())


def on_deadline(state: OrderProcess, now: datetime) -> list[Any]:
    """The commands a due payment deadline issues: expire the order, if it still waits."""
    if state.phase != AWAITING_PAYMENT or state.payment_due_at is None or now < state.payment_due_at:
        return []
    return [ExpireOrder(state.order_id, state.payment_due_at)]
