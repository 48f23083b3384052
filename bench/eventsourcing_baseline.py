"""The Python `eventsourcing` library creating aggregates in-process on the same database: what a
client of a library (no API, no queue, no workers) gets, as a baseline for end-to-end creates."""

from __future__ import annotations

import time
import uuid

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy.engine import make_url


class Product(Aggregate):
    @event("Created")
    def __init__(self, sku: str, name: str, amount: int, currency: str) -> None:
        self.sku, self.name, self.amount, self.currency = sku, name, amount, currency


class Catalog(Application[uuid.UUID]):
    def create(self, sku: str) -> None:
        self.save(Product(sku, "Bench", 100, "EUR"))


def creates_per_s(database_url: str, creates: int) -> float:
    """Aggregates created and saved a second, one transaction each, in this process."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        settings = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{url.database}-es"}
    else:
        settings = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.database or "",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_SCHEMA": "public",
        }
    catalog = Catalog(env={**settings, "CREATE_TABLE": "y"})
    for n in range(20):
        catalog.create(f"WARM-{n}")
    start = time.perf_counter()
    for n in range(creates):
        catalog.create(f"ES-{n}")
    return creates / (time.perf_counter() - start)
