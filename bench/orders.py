"""Orders end to end: from `placeOrder` answered to the order RESERVED in the orders read model,
through the command handler, the process manager (one reservation per line) and the projector."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

from sqlalchemy import select

from bench import scenarios
from bench.load import Observer, closed_loop, open_loop
from store import db
from store.schema import commands, events, products, stock

PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { commandId aggregateId } }"
RECEIVE = "mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { commandId } }"
UNITS = 1_000_000  # per sku: no order is refused for want of stock


def stock_up(url: str, database: str, product_ids: list[str], skus: int) -> list[str]:
    """Receive plenty of every unit of `skus` products; their skus once the stock is readable."""
    with db.reading(database) as connection:
        found = connection.execute(select(products.c.sku).where(products.c.id.in_(product_ids[:skus])))
        chosen = sorted(found.scalars())
    requests = iter([(RECEIVE, {"i": {"sku": sku, "quantity": UNITS}}) for sku in chosen])
    asyncio.run(open_loop(url, lambda: next(requests), rate=len(chosen), duration=1.0))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _stocked(database) < len(chosen):
        time.sleep(0.1)
    return chosen


def _stocked(database: str) -> int:
    with db.reading(database) as connection:
        return len(connection.execute(select(stock.c.sku)).all())


def place_orders(url: str, database: str, skus: list[str], clients: int, duration: float) -> dict[str, Any]:
    """A closed loop of `clients` placing orders of 1-3 lines; orders RESERVED a second, and the
    time from each `placeOrder` answer until the orders read model shows it RESERVED."""
    observer = Observer(database, projection="orders")
    observer.start()
    rng = random.Random(11)

    def make() -> tuple[str, dict[str, Any]]:
        lines = [{"sku": sku, "quantity": 1} for sku in rng.sample(skus, rng.randint(1, min(3, len(skus))))]
        return PLACE, {"i": {"customerId": str(uuid.uuid4()), "lines": lines}}

    samples = asyncio.run(closed_loop(url, make, clients, duration))
    placed = {s.command_id: s for s in samples if s.ok and s.command_id}
    reserved = _await_reserved(database, set(placed), time.monotonic() + 120)
    observer.stop.set()
    observer.join()
    latencies, done = [], []
    for command_id, position in reserved.items():
        seen = observer.visible_at(position)
        if seen is not None:
            latencies.append(max(0.0, seen - placed[command_id].acked))
            done.append(seen)
    first = min(s.started for s in samples)
    accepted = len(placed) / (max(s.acked for s in samples) - first)
    return {
        "offered_per_s": None,
        "clients": clients,
        **scenarios.outcome(samples, accepted, [t - first for t in done], latencies),
    }


def _await_reserved(database: str, command_ids: set[str], deadline: float) -> dict[str, int]:
    """The position of each placed order's OrderReserved event, once every order has one."""
    found: dict[str, int] = {}
    while time.monotonic() < deadline:
        with db.reading(database) as connection:
            placing = dict(
                connection.execute(
                    select(commands.c.aggregate_id, commands.c.id).where(commands.c.type == "PlaceOrder")
                ).all()
            )
            rows = connection.execute(
                select(events.c.stream_id, events.c.position).where(events.c.type == "OrderReserved")
            ).all()
        found = {
            placing[row.stream_id]: row.position for row in rows if placing.get(row.stream_id) in command_ids
        }
        if len(found) >= len(command_ids):
            break
        time.sleep(0.2)
    return found
