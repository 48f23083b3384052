"""Orders against scarce stock with real processes on PostgreSQL and Redis: 1,000 concurrent orders
while a worker is killed and the broker loses every queued doorbell; payment deadlines that fire
after the whole system was stopped and started again."""

from __future__ import annotations

import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from sqlalchemy import select

from store import db
from store.schema import orders, stock
from tests.e2e.client import Client, wait_for
from tests.faults.checks import all_terminal, projections_at_head, verify_green
from tests.faults.cluster import Cluster
from workers import projector

PRODUCT = """mutation($sku: String!) { createProduct(input: {sku: $sku, name: "Scarce",
    price: {amount: 100, currency: "EUR"}}, wait: VISIBLE) { stage } }"""
RECEIVE = """mutation($sku: String!, $quantity: Int!) {
    receiveStock(input: {sku: $sku, quantity: $quantity}) { status } }"""
PLACE = """mutation($customer: ID!, $lines: [OrderLineInput!]!) {
    placeOrder(input: {customerId: $customer, lines: $lines}) { aggregateId } }"""
ORDERS, SKUS, CLIENTS = 1000, 12, 16


def stocked(api: Client, units: dict[str, int]) -> None:
    """Create a product per sku, then receive its units once the catalog shows it."""
    for sku in units:
        api.data(PRODUCT, sku=sku)
    for sku, quantity in units.items():

        def received(sku: str = sku, quantity: int = quantity) -> bool:
            return "errors" not in api.gql(RECEIVE, sku=sku, quantity=quantity)

        wait_for(received, 120, f"{sku} to be in the catalog and received")


def rows(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with db.reading(url) as connection:
        found = {row.id: row for row in connection.execute(select(orders))}
        held = {row.sku: row for row in connection.execute(select(stock))}
    return found, held


def status(cluster: Cluster, order_id: str) -> str | None:
    found = rows(cluster.database_url)[0].get(order_id)
    return None if found is None else str(found.status)


def test_a_thousand_orders_against_scarce_stock_survive_a_killed_worker_and_a_flushed_broker(
    cluster: Cluster,
) -> None:
    api = cluster.web()
    for name in ("worker-1", "worker-2"):
        cluster.worker(name)
    cluster.projector()
    cluster.beat()
    run = uuid.uuid4().hex[:6].upper()
    units = {f"SCARCE-{run}-{n}": 20 + 5 * n for n in range(SKUS)}
    stocked(api, units)
    projections_at_head(cluster, timeout=120, names=projector.names())
    chooser = random.Random(7)
    wanted = [
        [{"sku": sku, "quantity": chooser.randint(1, 3)} for sku in chooser.sample(sorted(units), k)]
        for k in (chooser.randint(1, 3) for _ in range(ORDERS))
    ]

    def place(lines: list[dict[str, Any]]) -> str:
        return str(api.data(PLACE, customer=str(uuid.uuid4()), lines=lines)["placeOrder"]["aggregateId"])

    with ThreadPoolExecutor(CLIENTS) as pool:
        first = list(pool.map(place, wanted[: ORDERS // 3]))
        cluster.kill("worker-1")  # kill -9, mid-batch as likely as not
        redis.Redis.from_url(cluster.env["BROKER_URL"]).flushdb()  # every queued doorbell lost
        rest = list(pool.map(place, wanted[ORDERS // 3 :]))
        cluster.worker("worker-3")
    placed = first + rest
    assert len(set(placed)) == ORDERS

    all_terminal(cluster, timeout=300)
    projections_at_head(cluster, timeout=300, names=projector.names())
    all_terminal(cluster, timeout=120)  # what the process manager issued last
    projections_at_head(cluster, timeout=120, names=projector.names())
    found, held = rows(cluster.database_url)
    assert set(found) == set(placed)
    by_status: dict[str, int] = {}
    for order in found.values():
        by_status[order.status] = by_status.get(order.status, 0) + 1
    assert set(by_status) <= {"RESERVED", "REJECTED"}, by_status
    assert by_status.get("REJECTED") and by_status.get("RESERVED"), by_status  # the stock was scarce
    for sku, quantity in units.items():
        reserved = sum(
            line["quantity"]
            for order in found.values()
            if order.status == "RESERVED"
            for line in order.lines
            if line["sku"] == sku
        )
        assert held[sku].reserved == reserved <= held[sku].on_hand == quantity, sku  # nothing oversold
    verify_green(cluster)


def test_payment_deadlines_fire_after_the_whole_system_was_stopped_and_started_again(
    cluster: Cluster,
) -> None:
    cluster.env["EVENTSHOP_PAYMENT_TIMEOUT"] = "4"
    api = cluster.web()
    cluster.worker("worker")
    cluster.projector()
    sku = f"DEADLINE-{uuid.uuid4().hex[:6].upper()}"
    stocked(api, {sku: 5})
    order_id = api.data(PLACE, customer=str(uuid.uuid4()), lines=[{"sku": sku, "quantity": 3}])["placeOrder"][
        "aggregateId"
    ]
    wait_for(lambda: status(cluster, order_id) == "RESERVED", 60, "the order to be reserved")
    cluster.stop_all()  # no beat ran yet: the deadline lives only in the database
    time.sleep(5)
    api = cluster.web()
    cluster.worker("worker")
    cluster.projector()
    cluster.beat()
    wait_for(lambda: status(cluster, order_id) == "EXPIRED", 60, "the order to expire")
    wait_for(lambda: rows(cluster.database_url)[1][sku].reserved == 0 or None, 60, "its stock to be released")
    all_terminal(cluster, timeout=60)
    projections_at_head(cluster, timeout=60, names=projector.names())
    verify_green(cluster)
