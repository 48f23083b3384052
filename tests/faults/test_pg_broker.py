"""A lost broker: Redis restarted with no persistence drops every queued doorbell; beat re-rings."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from store import mailbox, settings
from tests.conftest import free_port
from tests.e2e.documents import CREATE, UPDATE
from tests.faults.checks import (
    all_terminal,
    create,
    event_count,
    projections_at_head,
    statuses,
    verify_green,
)
from tests.faults.cluster import Cluster
from tests.redis_server import RedisServer


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path, free_port())
    server.start()
    yield server
    server.kill()


def test_a_redis_restart_that_drops_queued_commands_loses_nothing(
    cluster: Cluster, own_redis: RedisServer
) -> None:
    cluster.env["BROKER_URL"] = own_redis.url
    api = cluster.web()
    products = [create(api, f"RESTART-{n}-{uuid.uuid4().hex[:6].upper()}")["aggregateId"] for n in range(10)]
    for product_id in products:
        for k in range(2):
            api.data(UPDATE, input={"id": product_id, "name": f"Renamed {k}"})
    # One doorbell waits per partition: rings for a partition already rung are coalesced.
    partitions = {mailbox.partition_of(product_id, settings.load().partitions) for product_id in products}
    assert redis.Redis.from_url(own_redis.url).llen("commands") == len(partitions)

    own_redis.kill()
    started = time.monotonic()
    body = api.gql(CREATE, input={"sku": "DOWN-2", "name": "Down", "price": {"amount": 1, "currency": "EUR"}})
    assert time.monotonic() - started < 10
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

    own_redis.start()
    assert redis.Redis.from_url(own_redis.url).llen("commands") == 0
    cluster.beat()  # only now: its redelivery would have rung the partitions counted above again
    cluster.worker("worker")
    cluster.projector()
    all_terminal(cluster, timeout=60)
    projections_at_head(cluster, timeout=60)
    assert statuses(cluster.database_url) == {"SUCCEEDED": 30}
    assert event_count(cluster.database_url) == 30
    for product_id in products:
        product = api.product(product_id)
        assert product is not None and (product["version"], product["name"]) == (3, "Renamed 1")
    verify_green(cluster)
