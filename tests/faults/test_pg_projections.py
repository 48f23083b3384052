"""Projections under faults: slow appends (I3), competing and killed projectors (I5), poison (I7)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.money import Money
from domain.product import ProductCreated
from store import db, eventstore, registry
from tests.e2e.client import wait_for
from tests.e2e.documents import PRICE
from tests.faults.checks import all_terminal, create, event_count, projections_at_head, verify_green
from tests.faults.cluster import Cluster
from workers.projections import INLINE_PROJECTIONS


def settled(cluster: Cluster, receipt: dict[str, Any]) -> dict[str, Any]:
    """The receipt, once its command has ended (so the next command's events come after it)."""
    all_terminal(cluster)
    return receipt


class Follower(threading.Thread):
    """Reads the store as a projector does and keeps every position it sees, in order."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.seen, self.done = url, list[int](), threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            with db.reading(self.url) as connection:
                batch = eventstore.read_all(connection, self.seen[-1] if self.seen else 0, 100)
            self.seen += [event.position for event in batch]


class RolledBack(Exception):
    pass


def slow_append(
    url: str, product_id: str, commit: bool, appended: threading.Event, release: threading.Event
) -> None:
    """Append a product's creation in a transaction held open until `release`, then commit or roll back."""
    event = ProductCreated(product_id, "SLOW-1", "Slow", "", Money(1, "EUR"), datetime.now(UTC))
    with contextlib.suppress(RolledBack), db.writing(url) as connection:
        for inline in INLINE_PROJECTIONS:
            inline.apply(connection, event)
        new = [registry.encode_event(event, {"command_id": None})]
        eventstore.append(connection, product_id, "Product", 0, new, datetime.now(UTC))
        appended.set()
        release.wait(60)
        if not commit:
            raise RolledBack


@pytest.mark.parametrize("commit", [True, False], ids=["commits", "rolls-back"])
def test_a_slow_append_is_never_passed_and_a_rolled_back_one_leaves_no_stall(
    cluster: Cluster, commit: bool
) -> None:
    api = cluster.web()
    cluster.worker("worker")
    cluster.projector()
    cluster.beat()
    create(api, "WARM-UP")
    all_terminal(cluster)
    follower = Follower(cluster.database_url)
    follower.start()
    appended, release = threading.Event(), threading.Event()
    slow = threading.Thread(
        target=slow_append, args=(cluster.database_url, str(uuid.uuid4()), commit, appended, release)
    )
    slow.start()
    assert appended.wait(30), "the slow append never took its position"
    fast = [create(api, f"FAST-{n}-{uuid.uuid4().hex[:6].upper()}") for n in range(20)]
    time.sleep(2)  # the worker takes them meanwhile, behind the open append
    release.set()
    slow.join(30)
    all_terminal(cluster)
    projections_at_head(cluster)
    follower.done.set()
    follower.join(10)
    total = event_count(cluster.database_url)
    assert total == (22 if commit else 21)
    assert follower.seen == list(range(1, total + 1))
    assert all(api.product(receipt["aggregateId"]) for receipt in fast)
    verify_green(cluster)


def test_two_projectors_and_a_projector_killed_mid_batch_apply_each_event_once(cluster: Cluster) -> None:
    api = cluster.web()
    cluster.worker("worker")
    folder = cluster.folder / "failpoints"
    folder.mkdir()
    killer = {
        "EVENTSHOP_PROJECTION_BATCH": "10",
        "EVENTSHOP_FAILPOINTS": "projector.before_commit=kill",
        "EVENTSHOP_FAILPOINTS_ONCE": str(folder),
    }
    cluster.projector("projector-a", env=killer)
    cluster.projector("projector-b", env={"EVENTSHOP_PROJECTION_BATCH": "10"})
    cluster.beat()
    cluster.ready("projector-a", "projector-b")  # both take batches, not the first one up alone
    products = [create(api, f"TWO-{n}-{uuid.uuid4().hex[:6].upper()}")["aggregateId"] for n in range(60)]
    for n, product_id in enumerate(products):
        api.data(PRICE, input={"id": product_id, "price": {"amount": 1000 + n, "currency": "EUR"}})
    all_terminal(cluster)
    projections_at_head(cluster)
    assert (folder / "projector.before_commit").exists()
    assert event_count(cluster.database_url) == 120
    for n, product_id in enumerate(products):
        product = api.product(product_id)
        assert product is not None and (product["version"], product["price"]["amount"]) == (2, 1000 + n)
    verify_green(cluster)


def test_a_poison_event_halts_one_projection_and_resume_after_the_fix_reaches_the_head(
    cluster: Cluster,
) -> None:
    api = cluster.web()
    cluster.worker("worker")
    cluster.projector("buggy", env={"EVENTSHOP_FAILPOINTS": "project.products=raise-if:POISON"})
    cluster.beat()
    good, poison, after = (
        settled(cluster, create(api, sku, name=name))
        for sku, name in (("GOOD-1", "Fault"), ("POISON-1", "POISON pill"), ("AFTER-1", "Fault"))
    )
    projections_at_head(cluster, names=["product_prices"])

    def products() -> dict[str, Any]:
        lines = cluster.eventshop("projections", "status", "--json").stdout.splitlines()
        found: dict[str, Any] = next(s for s in map(json.loads, lines) if s["name"] == "products")
        return found

    def halted() -> bool:
        return bool(products()["status"] == "HALTED")

    wait_for(halted, 90, "the products projection to halt")
    status = products()
    assert (status["error_position"], status["position"], status["lag"]) == (
        status["head"] - 1,
        status["head"] - 2,
        2,
    )
    assert status["error"] == "FailpointError: failpoint project.products"
    assert api.product(good["aggregateId"]) is not None
    assert api.product(poison["aggregateId"]) is None and api.product(after["aggregateId"]) is None
    verify_green(cluster)

    cluster.stop("buggy")
    cluster.projector("fixed")
    resumed = cluster.eventshop("projections", "resume", "products")
    assert resumed.returncode == 0, resumed.stderr
    projections_at_head(cluster)
    assert api.product(after["aggregateId"]) is not None
    assert products()["status"] == "RUNNING"
    verify_green(cluster)
