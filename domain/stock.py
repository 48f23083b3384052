"""The Stock aggregate: one per sku, the units on hand and the reservations orders hold on them.

Units are received; an order reserves some (refused, as an event, when fewer are available, so the
order's process manager learns of it), commits them once paid, and releases them when it ends
otherwise. Reserving, committing and releasing again for the same order changes nothing: the
process manager may say the same thing twice.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar

from domain.decider import Decider, Rejected

SKU = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")
QUANTITY_MAX = 1_000_000
STOCK_IDS = uuid.UUID("0d7c1a4e-5b7f-4f0e-8a61-3e2b9c4d5f60")


def stock_id(sku: str) -> str:
    """The id of the stream that holds a sku's stock: the same for every writer, a UUID like
    every other stream's."""
    return str(uuid.uuid5(STOCK_IDS, sku))


# Commands


@dataclass(frozen=True)
class ReceiveStock:
    sku: str
    quantity: int
    at: datetime


@dataclass(frozen=True)
class ReserveStock:
    sku: str
    order_id: str
    quantity: int
    at: datetime


@dataclass(frozen=True)
class CommitStock:
    sku: str
    order_id: str
    at: datetime


@dataclass(frozen=True)
class ReleaseStock:
    sku: str
    order_id: str
    at: datetime


StockCommand = ReceiveStock | ReserveStock | CommitStock | ReleaseStock


# Events


@dataclass(frozen=True)
class StockReceived:
    TYPE: ClassVar[str] = "StockReceived"
    VERSION: ClassVar[int] = 1
    sku: str
    quantity: int
    at: datetime


@dataclass(frozen=True)
class StockReserved:
    TYPE: ClassVar[str] = "StockReserved"
    VERSION: ClassVar[int] = 1
    sku: str
    order_id: str
    quantity: int
    at: datetime


@dataclass(frozen=True)
class StockReservationRefused:
    """Fewer units were available than the order asked for: nothing was held."""

    TYPE: ClassVar[str] = "StockReservationRefused"
    VERSION: ClassVar[int] = 1
    sku: str
    order_id: str
    quantity: int
    available: int
    at: datetime


@dataclass(frozen=True)
class StockCommitted:
    TYPE: ClassVar[str] = "StockCommitted"
    VERSION: ClassVar[int] = 1
    sku: str
    order_id: str
    quantity: int
    at: datetime


@dataclass(frozen=True)
class StockReleased:
    TYPE: ClassVar[str] = "StockReleased"
    VERSION: ClassVar[int] = 1
    sku: str
    order_id: str
    quantity: int
    at: datetime


StockEvent = StockReceived | StockReserved | StockReservationRefused | StockCommitted | StockReleased


@dataclass(frozen=True)
class Reservation:
    quantity: int
    committed: bool = False


@dataclass(frozen=True)
class Stock:
    sku: str = ""
    on_hand: int = 0
    reservations: dict[str, Reservation] = field(default_factory=dict)  # by order id

    @property
    def reserved(self) -> int:
        return sum(reservation.quantity for reservation in self.reservations.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def sku_problem(sku: str) -> str | None:
    if not isinstance(sku, str) or SKU.fullmatch(sku) is None:
        return "sku must be 1-32 characters of A-Z, 0-9 and '-', not starting with '-'"
    return None


def quantity_problem(quantity: int) -> str | None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= QUANTITY_MAX:
        return f"quantity must be a whole number from 1 to {QUANTITY_MAX}"
    return None


def problems(command: StockCommand) -> list[str]:
    """Every stateless rule the command breaks, in words for a person."""
    found = [sku_problem(command.sku)]
    if isinstance(command, ReceiveStock | ReserveStock):
        found.append(quantity_problem(command.quantity))
    return [problem for problem in found if problem is not None]


def decide(command: StockCommand, state: Stock) -> list[StockEvent]:
    """The events `command` causes, or `Rejected` with the rule it breaks."""
    if found := problems(command):
        raise Rejected("; ".join(found))
    held = state.reservations.get(command.order_id) if not isinstance(command, ReceiveStock) else None
    match command:
        case ReceiveStock():
            if state.on_hand + command.quantity > QUANTITY_MAX:
                raise Rejected(f"at most {QUANTITY_MAX} units of one sku may be on hand")
            return [StockReceived(command.sku, command.quantity, command.at)]
        case ReserveStock():
            if held is not None:
                return []
            if command.quantity > state.available:
                return [
                    StockReservationRefused(
                        command.sku, command.order_id, command.quantity, state.available, command.at
                    )
                ]
            return [StockReserved(command.sku, command.order_id, command.quantity, command.at)]
        case CommitStock():
            if held is None or held.committed:
                return []
            return [StockCommitted(command.sku, command.order_id, held.quantity, command.at)]
        case ReleaseStock():
            if held is None:
                return []
            return [StockReleased(command.sku, command.order_id, held.quantity, command.at)]


def evolve(state: Stock, event: StockEvent) -> Stock:
    """The state after `event`; never raises."""
    match event:
        case StockReceived():
            return replace(state, sku=event.sku, on_hand=state.on_hand + event.quantity)
        case StockReserved():
            held = {**state.reservations, event.order_id: Reservation(event.quantity)}
            return replace(state, sku=event.sku, reservations=held)
        case StockCommitted():
            held = {**state.reservations, event.order_id: Reservation(event.quantity, committed=True)}
            return replace(state, reservations=held)
        case StockReleased():
            held = {key: value for key, value in state.reservations.items() if key != event.order_id}
            return replace(state, reservations=held)
    return state


def stream_of(command: StockCommand) -> str:
    return stock_id(command.sku)


decider: Decider[StockCommand, StockEvent, Stock] = Decider(
    stream_type="Stock",
    id_of=stream_of,
    initial_state=Stock(),
    decide=decide,
    evolve=evolve,
    problems=problems,
    commands=(ReceiveStock, ReserveStock, CommitStock, ReleaseStock),
    events=(StockReceived, StockReserved, StockReservationRefused, StockCommitted, StockReleased),
)
