"""Two API hosts (`web` processes on their own ports, one client each) over one PostgreSQL and
Redis: nothing that matters lives in one host's memory. A subscription on one sees what was sent
to the other, `wait:` and `consistentWith` hold across them, persisted documents and the rate
limit are shared, and a host killed with SIGKILL loses no acknowledged command."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from api.security.persisted import digest
from tests.e2e.client import Client
from tests.e2e.documents import CREATE
from tests.faults.cluster import Cluster

RATE = 4  # mutations a second per credential, in bursts of up to twice that
PRODUCT = "query($id: ID!, $token: String) { product(id: $id, consistentWith: $token) { id name } }"
VISIBLE = """mutation($input: CreateProductInput!) {
  createProduct(input: $input, wait: VISIBLE) { aggregateId status token } }"""


@pytest.fixture
def hosts(make_database: Any, broker: str, tmp_path: Any) -> Iterator[tuple[Cluster, Client, Client]]:
    cluster = Cluster(make_database(), broker, tmp_path, EVENTSHOP_RATE_LIMIT=str(RATE))
    try:
        one, other = cluster.web("web-a"), cluster.web("web-b")
        cluster.worker("worker")
        cluster.projector()
        cluster.beat()
        cluster.ready("worker", "projector")
        yield cluster, one, other
    finally:
        cluster.stop_all()


def product_input() -> dict[str, Any]:
    return {
        "sku": f"HOST-{uuid.uuid4().hex[:10].upper()}",
        "name": "Mug",
        "price": {"amount": 5, "currency": "EUR"},
    }


def test_what_one_host_is_sent_the_other_sees(hosts: tuple[Cluster, Client, Client]) -> None:
    _cluster, one, other = hosts
    product_id = str(uuid.uuid4())
    url = other.base.replace("http", "ws", 1) + "/graphql"

    async def follow() -> list[Any]:
        seen: list[Any] = []
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(url, protocols=("graphql-transport-ws",))
            await socket.send_json({"type": "connection_init", "payload": {"token": other.credential}})
            assert (await socket.receive_json(timeout=10))["type"] == "connection_ack"
            query = "subscription($id: ID!) { productChanged(id: $id) { name version } }"
            payload = {"query": query, "variables": {"id": product_id}}
            await socket.send_json({"id": "1", "type": "subscribe", "payload": payload})
            seen.append((await socket.receive_json(timeout=10))["payload"]["data"]["productChanged"])
            made = await asyncio.to_thread(one.data, VISIBLE, input={**product_input(), "id": product_id})
            seen.append(made["createProduct"])
            seen.append((await socket.receive_json(timeout=30))["payload"]["data"]["productChanged"])
            await socket.close()
        return seen

    before, made, after = asyncio.run(follow())
    assert before is None and after == {"name": "Mug", "version": 1}  # sent to one, seen on the other
    assert made["status"] == "SUCCEEDED"
    read = other.data(PRODUCT, id=product_id, token=made["token"])["product"]
    assert read == {"id": product_id, "name": "Mug"}  # the token of one host holds on the other

    query = "{ products(first: 1) { totalCount } }"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest(query)}}
    assert one.post({"query": query, "extensions": extensions})[0] == 200
    status, _headers, body = other.post({"extensions": extensions})
    assert status == 200 and "errors" not in body, body  # registered on one, found on the other


def test_the_rate_limit_is_one_budget_across_hosts(hosts: tuple[Cluster, Client, Client]) -> None:
    _cluster, one, other = hosts
    started = time.monotonic()
    answers = [
        (host.post({"query": CREATE, "variables": {"input": product_input()}})[0])
        for _ in range(12)
        for host in (one, other)
    ]
    elapsed = time.monotonic() - started
    allowed = answers.count(200)
    assert answers.count(429) == len(answers) - allowed
    assert allowed <= 2 * RATE + RATE * elapsed + 1, (allowed, elapsed)  # one budget, not one per host
    assert 429 in answers[0::2] and 429 in answers[1::2]


def test_a_host_killed_mid_write_loses_no_acknowledged_command(hosts: tuple[Cluster, Client, Client]) -> None:
    cluster, one, other = hosts
    receipts: list[str] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            try:
                status, _headers, body = one.post({"query": CREATE, "variables": {"input": product_input()}})
            except OSError:
                return  # the host is gone
            if status == 200 and "data" in body and body["data"]:
                receipts.append(body["data"]["createProduct"]["commandId"])
            time.sleep(0.3)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(2)
    cluster.kill("web-a")
    stop.set()
    writer.join(30)
    assert receipts
    for command_id in receipts:
        assert other.settled(command_id)["status"] == "SUCCEEDED"
