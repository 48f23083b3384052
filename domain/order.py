"""The Order aggregate: a customer's lines, placed, then reserved or rejected (by the order's
process manager, from the stock's answers), paid (CONFIRMED), cancelled or expired.

PLACED -> RESERVED -> CONFIRMED, or REJECTED (a line could not be reserved), CANCELLED (by its
customer or an admin, from PLACED, RESERVED or CONFIRMED) or EXPIRED (not paid by its due time).
Who may pay or cancel an order arrives in the command: its placer, or anyone acting as admin.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from domain.decider import Decider, Rejected
from domain.money import Money, money_problem
from domain.stock import quantity_problem, sku_problem

MAX_LINES = 50
REASON_MAX = 500
PLACED, RESERVED, CONFIRMED = "PLACED", "RESERVED", "CONFIRMED"
REJECTED, CANCELLED, EXPIRED = "REJECTED", "CANCELLED", "EXPIRED"
SETTLED = frozenset({CONFIRMED, REJECTED, CANCELLED, EXPIRED})


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Money  # the product's price when the order was placed


# Commands


@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    customer_id: str
    placed_by: str  # the subject who placed it: it may pay and cancel it
    lines: tuple[OrderLine, ...]
    at: datetime


@dataclass(frozen=True)
class MarkOrderReserved:
    """Every line is held (the process manager's word); payment is due by `payment_due_at`."""

    order_id: str
    payment_due_at: datetime
    at: datetime


@dataclass(frozen=True)
class RejectOrder:
    order_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class PayOrder:
    order_id: str
    amount: Money
    requested_by: str | None  # the paying subject; None when acting as admin
    at: datetime


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str | None
    requested_by: str | None  # the cancelling subject; None when acting as admin
    at: datetime


@dataclass(frozen=True)
class ExpireOrder:
    order_id: str
    at: datetime


OrderCommand = PlaceOrder | MarkOrderReserved | RejectOrder | PayOrder | CancelOrder | ExpireOrder


# Events


@dataclass(frozen=True)
class OrderPlaced:
    TYPE: ClassVar[str] = "OrderPlaced"
    VERSION: ClassVar[int] = 1
    order_id: str
    customer_id: str
    placed_by: str
    lines: tuple[OrderLine, ...]
    total: Money
    at: datetime


@dataclass(frozen=True)
class OrderReserved:
    TYPE: ClassVar[str] = "OrderReserved"
    VERSION: ClassVar[int] = 1
    order_id: str
    payment_due_at: datetime
    at: datetime


@dataclass(frozen=True)
class OrderRejected:
    TYPE: ClassVar[str] = "OrderRejected"
    VERSION: ClassVar[int] = 1
    order_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class OrderPaid:
    TYPE: ClassVar[str] = "OrderPaid"
    VERSION: ClassVar[int] = 1
    order_id: str
    amount: Money
    at: datetime


@dataclass(frozen=True)
class OrderCancelled:
    TYPE: ClassVar[str] = "OrderCancelled"
    VERSION: ClassVar[int] = 1
    order_id: str
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class OrderExpired:
    TYPE: ClassVar[str] = "OrderExpired"
    VERSION: ClassVar[int] = 1
    order_id: str
    at: datetime


OrderEvent = OrderPlaced | OrderReserved | OrderRejected | OrderPaid | OrderCancelled | OrderExpired


@dataclass(frozen=True)
class Order:
    status: str | None = None  # None until placed
    placed_by: str = ""
    total: Money = Money(0, "XXX")
    lines: tuple[OrderLine, ...] = ()


def total_of(lines: tuple[OrderLine, ...]) -> Money:
    return Money(sum(line.unit_price.amount * line.quantity for line in lines), lines[0].unit_price.currency)


def lines_problems(lines: tuple[OrderLine, ...]) -> list[str]:
    """What is wrong with an order's lines, each once, in words for a person."""
    if not 1 <= len(lines) <= MAX_LINES:
        return [f"an order needs 1 to {MAX_LINES} lines"]
    found: list[str | None] = []
    for line in lines:
        found += [
            sku_problem(line.sku),
            quantity_problem(line.quantity),
            money_problem("price", line.unit_price),
        ]
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        found.append("each sku may appear in one line only")
    if len({line.unit_price.currency for line in lines}) > 1:
        found.append("every line must be priced in one currency")
    return list(dict.fromkeys(problem for problem in found if problem is not None))


def reason_problem(reason: str | None) -> str | None:
    if reason is not None and (len(reason) > REASON_MAX or "\x00" in reason):
        return f"reason must be at most {REASON_MAX} characters, without NUL"
    return None


def problems(command: OrderCommand) -> list[str]:
    """Every stateless rule the command breaks, in words for a person."""
    match command:
        case PlaceOrder():
            return lines_problems(command.lines)
        case PayOrder():
            return [p for p in [money_problem("amount", command.amount)] if p is not None]
        case CancelOrder() | RejectOrder():
            return [p for p in [reason_problem(command.reason)] if p is not None]
    return []


def _check_requester(state: Order, requested_by: str | None) -> None:
    if requested_by is not None and requested_by != state.placed_by:
        raise Rejected("only whoever placed an order (or an orders:admin) may pay or cancel it")


def decide(command: OrderCommand, state: Order) -> list[OrderEvent]:
    """The events `command` causes, or `Rejected` with the rule it breaks."""
    if found := problems(command):
        raise Rejected("; ".join(found))
    if isinstance(command, PlaceOrder):
        if state.status is not None:
            raise Rejected("order already placed")
        lines = command.lines
        return [
            OrderPlaced(
                command.order_id, command.customer_id, command.placed_by, lines, total_of(lines), command.at
            )
        ]
    if state.status is None:
        raise Rejected("order not found")
    match command:
        case MarkOrderReserved():
            return (
                [OrderReserved(command.order_id, command.payment_due_at, command.at)]
                if state.status == PLACED
                else []
            )
        case RejectOrder():
            return (
                [OrderRejected(command.order_id, command.reason, command.at)]
                if state.status == PLACED
                else []
            )
        case ExpireOrder():
            return [OrderExpired(command.order_id, command.at)] if state.status == RESERVED else []
        case PayOrder():
            _check_requester(state, command.requested_by)
            if state.status != RESERVED:
                raise Rejected(f"the order is {state.status}, not awaiting payment")
            if command.amount != state.total:
                shown = f"{state.total.amount} {state.total.currency}"
                raise Rejected(f"the amount must equal the order's total, {shown} (minor units)")
            return [OrderPaid(command.order_id, command.amount, command.at)]
        case CancelOrder():
            _check_requester(state, command.requested_by)
            if state.status in SETTLED - {CONFIRMED}:
                raise Rejected(f"the order is {state.status} already")
            return [OrderCancelled(command.order_id, command.reason, command.at)]
    return []


def evolve(state: Order, event: OrderEvent) -> Order:
    """The state after `event`; never raises."""
    match event:
        case OrderPlaced():
            return Order(PLACED, event.placed_by, event.total, event.lines)
        case OrderReserved():
            return replace(state, status=RESERVED)
        case OrderRejected():
            return replace(state, status=REJECTED)
        case OrderPaid():
            return replace(state, status=CONFIRMED)
        case OrderCancelled():
            return replace(state, status=CANCELLED)
        case OrderExpired():
            return replace(state, status=EXPIRED)
    return state


def order_id(command: OrderCommand) -> str:
    return command.order_id


decider: Decider[OrderCommand, OrderEvent, Order] = Decider(
    stream_type="Order",
    id_of=order_id,
    initial_state=Order(),
    decide=decide,
    evolve=evolve,
    problems=problems,
    commands=(PlaceOrder, MarkOrderReserved, RejectOrder, PayOrder, CancelOrder, ExpireOrder),
    events=(OrderPlaced, OrderReserved, OrderRejected, OrderPaid, OrderCancelled, OrderExpired),
)
