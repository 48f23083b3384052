"""`eventshop projections rebuild` on a running system under write load: every read during it
answers in full, the progress bar is shown, and `eventshop verify` is green afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from domain.money import Money
from domain.product import ProductCreated
from store import db, eventstore, registry
from tests.conftest import free_port
from tests.e2e.client import Client, running_system, wait_for
from workers.projections import INLINE_PROJECTIONS

SEEDED = 6000
COUNT = "{ products(first: 1) { totalCount edges { node { id } } } }"
CREATE = """mutation($sku: String!) { createProduct(input: {sku: $sku, name: "Load",
    price: {amount: 100, currency: "EUR"}}) { commandId } }"""


def seed(database: str) -> None:
    """SEEDED products recorded straight into the store (with their sku claims, as the command
    handler would), for the projector to catch up with."""
    at = datetime.now(UTC)
    with db.writing(database) as connection:
        for start in range(0, SEEDED, 1000):
            appends = []
            for n in range(start, start + 1000):
                product_id = str(uuid.uuid4())
                created = ProductCreated(
                    product_id, f"SEED-{n}", f"Seeded {n}", "", Money(100 + n, "EUR"), at
                )
                for inline in INLINE_PROJECTIONS:
                    inline.apply(connection, created)
                encoded = [registry.encode_event(created, {})]
                appends.append(eventstore.StreamAppend(product_id, "Product", 0, encoded))
            eventstore.append_streams(connection, appends, at)


def test_a_rebuild_under_write_load_serves_every_read_and_ends_verified(
    make_database: Callable[[], str], make_broker: Callable[[], str], tmp_path: Path
) -> None:
    database = make_database()
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": make_broker(), "COLUMNS": "120"}
    data = tmp_path / "data"
    with running_system(env, free_port(), data, tmp_path / "up.log") as system:
        seed(database)
        system.gql(CREATE, sku="KICK-1")  # a doorbell: the projector catches up with the seeded events

        def total() -> int:
            return int(system.data(COUNT)["products"]["totalCount"])

        wait_for(lambda: total() >= SEEDED, 120, "the projector to catch up with the seeded products")
        stop, problems, reads, writes = threading.Event(), [], [0], [0]

        def reader() -> None:
            floor = SEEDED
            client = Client(system.base, anonymous=True)
            while not stop.is_set():
                status, _headers, body = client.post({"query": COUNT})
                found = (body.get("data") or {}).get("products") if isinstance(body, dict) else None
                if status != 200 or not found or "errors" in body:
                    problems.append(f"{status}: {body}")
                elif found["totalCount"] < floor or not found["edges"]:
                    problems.append(f"a read showed {found['totalCount']} products, fewer than {floor}")
                else:
                    floor = found["totalCount"]
                reads[0] += 1

        def writer() -> None:
            while not stop.is_set():
                system.gql(CREATE, sku=f"LOAD-{uuid.uuid4().hex[:10].upper()}")
                writes[0] += 1
                time.sleep(0.02)

        threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
        for thread in threads:
            thread.start()
        try:
            command = [sys.executable, "-m", "eventshop", "projections", "rebuild", "products"]
            rebuilt = subprocess.run(
                [*command, "--data-dir", str(data)], env=env, capture_output=True, text=True, timeout=60
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert "events/s" in rebuilt.stdout and "replaying products" in rebuilt.stdout, rebuilt.stdout
        rates = [int(r.replace(",", "")) for r in re.findall(r"([\d,]+) events/s", rebuilt.stdout)]
        assert rates and rates[-1] > 0, rebuilt.stdout  # the real rate, not 0
        assert problems == [], problems[:5]
        assert reads[0] > 10 and writes[0] > 5
        wait_for(lambda: total() >= SEEDED + writes[0] + 1, 60, "the writes to be visible")
        checked = subprocess.run(
            [sys.executable, "-m", "eventshop", "verify", "--data-dir", str(data)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout
