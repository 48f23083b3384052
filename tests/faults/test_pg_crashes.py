"""Killed workers: every command applied exactly once, whatever moment the worker dies at."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path

from tests.e2e.client import wait_for
from tests.e2e.documents import UPDATE
from tests.faults.checks import (
    all_terminal,
    create,
    event_count,
    projections_at_head,
    statuses,
    verify_green,
)
from tests.faults.cluster import Cluster

HANDLED = re.compile(r"Task eventshop.handle_commands\[([0-9a-f-]+)\] received")


def once(cluster: Cluster, point: str, action: str) -> dict[str, str]:
    """Failpoint settings that fire `action` at `point` once, in whichever process gets there first."""
    folder = cluster.folder / "failpoints"
    folder.mkdir(exist_ok=True)
    return {"EVENTSHOP_FAILPOINTS": f"{point}={action}", "EVENTSHOP_FAILPOINTS_ONCE": str(folder)}


def fired(cluster: Cluster, point: str) -> bool:
    return (Path(cluster.folder) / "failpoints" / point).exists()


def submit_workload(cluster: Cluster, products: int, updates: int) -> int:
    """Create products and rename each several times; returns how many events that must append."""
    assert cluster.api is not None
    for n in range(products):
        receipt = create(cluster.api, f"CRASH-{n}-{uuid.uuid4().hex[:6].upper()}")
        for k in range(updates):
            cluster.api.data(UPDATE, input={"id": receipt["aggregateId"], "name": f"Name {k}"})
    return products * (1 + updates)


def test_a_worker_child_killed_mid_command_loses_and_doubles_nothing(cluster: Cluster) -> None:
    cluster.web()
    cluster.worker("worker", env=once(cluster, "handler.before_commit", "kill"))
    cluster.projector()
    cluster.beat()
    expected = submit_workload(cluster, products=5, updates=3)
    all_terminal(cluster)
    assert fired(cluster, "handler.before_commit")
    assert statuses(cluster.database_url) == {"SUCCEEDED": expected}
    assert event_count(cluster.database_url) == expected
    projections_at_head(cluster)
    verify_green(cluster)


def test_a_whole_worker_killed_with_reserved_messages_loses_and_doubles_nothing(cluster: Cluster) -> None:
    cluster.web()
    cluster.worker("slow", concurrency=1, env={"EVENTSHOP_FAILPOINTS": "handler.before_commit=sleep:3"})
    cluster.projector()
    cluster.beat()
    expected = submit_workload(cluster, products=12, updates=0)
    wait_for(lambda: statuses(cluster.database_url).get("SUCCEEDED", 0) >= 2, 60, "the slow worker to start")
    cluster.kill("slow")
    assert statuses(cluster.database_url).get("PENDING", 0) > 0, "the kill came too late to prove anything"
    cluster.worker("rescuer")
    all_terminal(cluster)
    assert statuses(cluster.database_url) == {"SUCCEEDED": expected}
    assert event_count(cluster.database_url) == expected
    projections_at_head(cluster)
    verify_green(cluster)


def test_a_crash_after_the_append_commits_and_before_the_ack_appends_nothing_on_redelivery(
    cluster: Cluster,
) -> None:
    cluster.web()
    cluster.worker("worker", env=once(cluster, "handler.after_commit", "kill"))
    cluster.projector()
    # The dead child never rang the projector for what it committed; when no later commit does,
    # beat finds the projection behind the head and rings it (I6).
    cluster.beat()
    expected = submit_workload(cluster, products=3, updates=2)
    all_terminal(cluster)
    projections_at_head(cluster)
    assert fired(cluster, "handler.after_commit")
    assert statuses(cluster.database_url) == {"SUCCEEDED": expected}
    assert event_count(cluster.database_url) == expected
    # The doorbell the dead child held was never acknowledged: it comes back, and appends nothing.
    # Its worker requeues it either when it notices the dead child (and may take it again itself)
    # or when it stops (then the second worker takes it): either way one task id is received twice.
    cluster.stop("worker")
    cluster.worker("second")

    def redelivered() -> bool:
        received = Counter(HANDLED.findall(cluster.log("worker")) + HANDLED.findall(cluster.log("second")))
        return any(times >= 2 for times in received.values())

    wait_for(redelivered, 60, "the doorbell to be redelivered")
    all_terminal(cluster)
    assert statuses(cluster.database_url) == {"SUCCEEDED": expected}
    assert event_count(cluster.database_url) == expected
    verify_green(cluster)
