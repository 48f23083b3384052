"""The order process manager with the real command handler and projector, on SQLite or
PostgreSQL: an order's whole life through the mailbox, the event store and the read tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from sqlalchemy import func, select

from domain.money import Money
from domain.order import CancelOrder, OrderLine, PayOrder, PlaceOrder
from domain.stock import ReceiveStock
from eventshop import trace_cli
from store import db
from store import trace as store_trace
from store.schema import commands, deadlines, order_processes, orders, stock
from tests.config import config
from tests.integration.helpers import record
from workers import command_handler, projector, verify
from workers.processes import order_process

MUG, CUP = "MUG-1", "CUP-2"


def now() -> datetime:
    """Each command's time when it is made: deadlines count from it (a module-level instant would
    be long past when a slow CI run reaches a test)."""
    return datetime.now(UTC)


def settle(rounds: int = 30) -> None:
    """Run the workers and the projector until nothing moves, as their doorbells would."""
    settings = config()
    for _ in range(rounds):
        handled = sum(command_handler.drain(settings, p) for p in range(settings.partitions))
        projected = projector.catch_up_all(settings, projector.names())
        if not handled and not projected:
            return
    raise AssertionError("the system did not settle")


def place(*lines: tuple[str, int]) -> tuple[str, str]:
    """Place an order by alice; returns its id and the command's id (its correlation)."""
    order_id = str(uuid.uuid4())
    given = tuple(OrderLine(sku, quantity, Money(100, "EUR")) for sku, quantity in lines)
    command_id = record(
        PlaceOrder(order_id, str(uuid.uuid4()), "alice", given, now()), partitions=config().partitions
    )
    return order_id, command_id


def receive(sku: str, quantity: int) -> None:
    record(ReceiveStock(sku, quantity, now()), partitions=config().partitions)


def order(order_id: str) -> Any:
    with db.reading(config().database_url) as connection:
        return connection.execute(select(orders).where(orders.c.id == order_id)).one()


def held(sku: str) -> tuple[int, int]:
    with db.reading(config().database_url) as connection:
        row = connection.execute(select(stock).where(stock.c.sku == sku)).one()
    return row.on_hand, row.reserved


def correlation(command_id: str) -> list[Any]:
    with db.reading(config().database_url) as connection:
        return list(
            connection.execute(
                select(commands).where(commands.c.correlation_id == command_id).order_by(commands.c.seq)
            )
        )


def test_an_order_whose_lines_are_all_in_stock_is_reserved_with_a_payment_deadline(database: str) -> None:
    receive(MUG, 5)
    receive(CUP, 1)
    order_id, command_id = place((MUG, 2), (CUP, 1))
    settle()
    row = order(order_id)
    assert row.status == "RESERVED" and row.correlation_id == command_id
    assert row.payment_due_at is not None
    assert (held(MUG), held(CUP)) == ((5, 2), (1, 1))
    issued = correlation(command_id)
    assert [c.type for c in issued] == ["PlaceOrder", "ReserveStock", "ReserveStock", "MarkOrderReserved"]
    assert all(c.status == "SUCCEEDED" for c in issued)
    assert issued[0].causation_id is None and all(c.causation_id is not None for c in issued[1:])
    with db.reading(config().database_url) as connection:
        assert connection.execute(select(deadlines.c.order_id)).scalars().all() == [order_id]


def test_a_line_that_cannot_be_served_rejects_the_order_and_releases_the_others(database: str) -> None:
    receive(MUG, 5)
    receive(CUP, 1)
    order_id, _ = place((MUG, 2), (CUP, 3))
    settle()
    row = order(order_id)
    assert row.status == "REJECTED" and row.reason == f"{CUP}: 3 asked, 1 available"
    assert (held(MUG), held(CUP)) == ((5, 0), (1, 0))


def test_paying_confirms_and_keeps_the_stock_while_cancelling_gives_it_back(database: str) -> None:
    receive(MUG, 5)
    paid, _ = place((MUG, 2))
    cancelled, _ = place((MUG, 1))
    settle()
    record(PayOrder(paid, Money(200, "EUR"), "alice", now()), partitions=config().partitions)
    record(CancelOrder(cancelled, "changed my mind", "alice", now()), partitions=config().partitions)
    settle()
    assert (order(paid).status, order(cancelled).status) == ("CONFIRMED", "CANCELLED")
    assert held(MUG) == (5, 2)
    with db.reading(config().database_url) as connection:
        assert connection.execute(select(func.count()).select_from(deadlines)).scalar_one() == 0


def test_an_order_not_paid_in_time_expires_when_beat_fires_its_deadline(database: str) -> None:
    receive(MUG, 5)
    order_id, _ = place((MUG, 4))
    settle()
    assert order_process.fire_due_deadlines(config()) == set()  # not due yet
    later = datetime.now(UTC) + timedelta(seconds=config().payment_timeout + 1)
    assert order_process.fire_due_deadlines(config(), later)
    assert order_process.fire_due_deadlines(config(), later) == set()  # fired once
    settle()
    assert order(order_id).status == "EXPIRED"
    assert held(MUG) == (5, 0)


def test_a_replayed_reaction_records_no_command_twice(database: str) -> None:
    receive(MUG, 5)
    order_id, command_id = place((MUG, 1))
    settle()
    before = len(correlation(command_id))
    with db.writing(config().database_url) as connection:  # as if the reactions had never committed
        connection.execute(order_processes.delete())
        projector.save_checkpoint(connection, order_process.NAME, position=0)
    settle()
    assert len(correlation(command_id)) == before
    assert order(order_id).status == "RESERVED"


def test_eventshop_trace_shows_each_command_under_the_event_that_caused_it(database: str) -> None:
    receive(MUG, 5)
    _order_id, command_id = place((MUG, 1))
    settle()
    with db.reading(config().database_url) as connection:
        found = store_trace.load(connection, command_id)
    console = Console(record=True, width=200)
    console.print(trace_cli.tree(command_id, found))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert "not settled yet" in lines[0]  # its payment deadline is still armed
    stripped = [(len(line) - len(line.lstrip("└├│─ ")), line.lstrip("└├│─ ")) for line in lines]
    names = [
        "PlaceOrder",
        "OrderPlaced",
        "ReserveStock",
        "StockReserved",
        "MarkOrderReserved",
        "OrderReserved",
    ]
    depth = [next(d for d, text in stripped if text.startswith(name + " ")) for name in names]
    assert depth == sorted(set(depth))  # each one level below the one before


def test_verify_holds_the_orders_and_stock_invariants_at_rest_and_finds_a_tampered_sku(database: str) -> None:
    receive(MUG, 5)
    receive(CUP, 1)
    reserved, _ = place((MUG, 2))
    rejected, _ = place((MUG, 1), (CUP, 2))
    paid, _ = place((CUP, 1))
    settle()
    record(PayOrder(paid, Money(100, "EUR"), "alice", now()), partitions=config().partitions)
    settle()
    report = verify.verify(config().database_url)
    assert report.ok, report.violations
    assert report.counts["orders"] == 3
    with db.writing(config().database_url) as connection:
        connection.execute(stock.update().where(stock.c.sku == MUG).values(reserved=9))
    violations = verify.verify(config().database_url).violations
    assert f"orders: sku {MUG} has 9 units reserved but 5 on hand" in violations
    assert f"orders: sku {MUG} has 9 units reserved, its reserved and confirmed orders 2" in violations
    assert (order(reserved).status, order(rejected).status, order(paid).status) == (
        "RESERVED",
        "REJECTED",
        "CONFIRMED",
    )
