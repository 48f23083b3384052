"""Partitions under faults: a killed batch of many aggregates, racing workers, a changed partition count."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from store import db, mailbox
from store.schema import events
from tests.e2e.documents import UPDATE
from tests.faults.checks import all_terminal, create, event_count, projections_at_head, statuses, verify_green
from tests.faults.cluster import Cluster
from tests.faults.test_pg_crashes import fired, once
from tests.integration.helpers import name_in


def names_in_order(url: str, product_id: str) -> list[str]:
    with db.reading(url) as connection:
        rows = connection.execute(
            select(events.c.data).where(events.c.stream_id == product_id).order_by(events.c.version)
        )
        return [name_in(data) for data in rows.scalars()]


def submit(cluster: Cluster, products: int, renames: int) -> list[str]:
    assert cluster.api is not None
    ids = [
        create(cluster.api, f"PART-{n}-{uuid.uuid4().hex[:6].upper()}")["aggregateId"]
        for n in range(products)
    ]
    for k in range(renames):
        for product_id in ids:
            cluster.api.data(UPDATE, input={"id": product_id, "name": f"Name {k}"})
    return ids


def test_a_worker_killed_mid_partition_batch_loses_and_doubles_nothing(cluster: Cluster) -> None:
    cluster.env["EVENTSHOP_PARTITIONS"] = "1"
    cluster.web()
    ids = submit(cluster, products=8, renames=3)
    assert statuses(cluster.database_url) == {"PENDING": 32}
    cluster.worker("worker", env=once(cluster, "handler.before_commit", "kill"))
    cluster.projector()
    cluster.beat()
    all_terminal(cluster)
    assert fired(cluster, "handler.before_commit"), "the batch was never killed"
    assert statuses(cluster.database_url) == {"SUCCEEDED": 32}
    assert event_count(cluster.database_url) == 32
    for product_id in ids:
        assert names_in_order(cluster.database_url, product_id) == ["Fault", "Name 0", "Name 1", "Name 2"]
    projections_at_head(cluster)
    verify_green(cluster)


def test_two_workers_racing_for_one_partition_handle_each_command_once(cluster: Cluster) -> None:
    cluster.env.update(EVENTSHOP_PARTITIONS="1", EVENTSHOP_COMMAND_BATCH="5")
    cluster.web()
    cluster.worker("first", env={"EVENTSHOP_FAILPOINTS": "handler.before_commit=sleep:0.05"})
    cluster.worker("second", env={"EVENTSHOP_FAILPOINTS": "handler.before_commit=sleep:0.05"})
    cluster.projector()
    cluster.beat()
    ids = submit(cluster, products=10, renames=4)
    all_terminal(cluster)
    assert statuses(cluster.database_url) == {"SUCCEEDED": 50}
    assert event_count(cluster.database_url) == 50
    for product_id in ids:
        assert names_in_order(cluster.database_url, product_id) == ["Fault"] + [f"Name {k}" for k in range(4)]
    projections_at_head(cluster)
    verify_green(cluster)


def test_changing_the_partition_count_with_commands_pending_keeps_every_aggregates_order(
    cluster: Cluster,
) -> None:
    cluster.env["EVENTSHOP_PARTITIONS"] = "4"
    api = cluster.web()
    ids = [create(api, f"MOVE-{n}-{uuid.uuid4().hex[:6].upper()}")["aggregateId"] for n in range(12)]
    for product_id in ids:
        api.data(UPDATE, input={"id": product_id, "name": "Old"})
    cluster.stop("web")
    cluster.env["EVENTSHOP_PARTITIONS"] = "7"
    api = cluster.web()
    for product_id in ids:
        api.data(UPDATE, input={"id": product_id, "name": "New"})
    moved = [p for p in ids if mailbox.partition_of(p, 4) != mailbox.partition_of(p, 7)]
    assert moved, "no product changed partition: the scenario proves nothing"
    assert statuses(cluster.database_url) == {"PENDING": 36}
    cluster.worker("worker")
    cluster.projector()
    cluster.beat()
    all_terminal(cluster)
    assert statuses(cluster.database_url) == {"SUCCEEDED": 36}
    for product_id in ids:
        assert names_in_order(cluster.database_url, product_id) == ["Fault", "Old", "New"]
    projections_at_head(cluster)
    verify_green(cluster)
