"""Concurrency storms through the HTTP API: ordering, exact counts, identical receipts."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from store import db
from store.schema import commands
from tests.e2e.documents import PRICE
from tests.faults.checks import all_terminal, create, projections_at_head, verify_green
from tests.faults.cluster import Cluster


def test_500_concurrent_price_changes_on_5_products_with_competing_workers(cluster: Cluster) -> None:
    api = cluster.web()
    cluster.worker("worker-a")
    cluster.worker("worker-b")
    cluster.projector()
    cluster.beat()
    products = [create(api, f"STORM-{n}-{uuid.uuid4().hex[:6].upper()}")["aggregateId"] for n in range(5)]
    rng = random.Random(7)
    changes = [(rng.choice(products), rng.choice([100, 200, 300, 400])) for _ in range(500)]

    def change(target: tuple[str, int]) -> dict[str, Any]:
        product_id, amount = target
        price = {"amount": amount, "currency": "EUR"}
        receipt: dict[str, Any] = api.data(PRICE, input={"id": product_id, "price": price})[
            "changeProductPrice"
        ]
        return receipt

    with ThreadPoolExecutor(16) as pool:
        receipts = list(pool.map(change, changes))
    assert len({r["commandId"] for r in receipts}) == 500
    all_terminal(cluster)
    projections_at_head(cluster)

    with db.reading(cluster.database_url) as connection:
        rows = connection.execute(
            select(commands.c.aggregate_id, commands.c.status, commands.c.payload)
            .where(commands.c.type == "ChangeProductPrice")
            .order_by(commands.c.seq)
        ).all()
    assert [row.status for row in rows] == ["SUCCEEDED"] * 500
    for product_id in products:
        price, effective = 100, 0
        for row in rows:
            if row.aggregate_id == product_id and row.payload["price"]["amount"] != price:
                price, effective = row.payload["price"]["amount"], effective + 1
        product = api.product(product_id)
        assert product is not None
        assert (product["version"], product["price"]["amount"]) == (1 + effective, price)
        history = api.data("query($id: ID!) { productHistory(id: $id) { version } }", id=product_id)
        assert len(history["productHistory"]) == 1 + effective
    verify_green(cluster)


def test_one_command_id_sent_10_times_at_once_is_one_command(cluster: Cluster) -> None:
    api = cluster.web()
    cluster.worker("worker")
    cluster.projector()
    command_id = str(uuid.uuid4())
    fields = {
        "commandId": command_id,
        "sku": "TWIN-1",
        "name": "Twin",
        "price": {"amount": 5, "currency": "EUR"},
    }
    mutation = """mutation($input: CreateProductInput!) {
        createProduct(input: $input) { commandId aggregateId status } }"""
    with ThreadPoolExecutor(10) as pool:
        bodies = list(pool.map(lambda _: api.gql(mutation, input=fields), range(10)))
    receipts = [body["data"]["createProduct"] for body in bodies]
    assert all(receipt == receipts[0] for receipt in receipts), receipts
    all_terminal(cluster)
    other = api.gql(mutation, input={**fields, "name": "Other"})
    assert other["errors"][0]["extensions"]["code"] == "CONFLICT"
    history = api.data(
        "query($id: ID!) { productHistory(id: $id) { version } }", id=receipts[0]["aggregateId"]
    )
    assert history["productHistory"] == [{"version": 1}]
    with db.reading(cluster.database_url) as connection:
        assert len(connection.execute(select(commands.c.id)).all()) == 1
    projections_at_head(cluster)
    verify_green(cluster)
