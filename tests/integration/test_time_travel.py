"""The application at any point in time: `product(asOf | version)` and `products(asOf)` equal a
replay of the events recorded up to that instant, filtered, sorted and paged like the live catalog."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.graphql.errors import UserInputError
from api.read import queries
from domain.money import Money
from domain.product import ProductChanges, ProductCreated, ProductDeleted, ProductPriceChanged, ProductUpdated
from store import db, eventstore, registry
from store.product_rows import Row, evolve_row
from tests.config import config
from workers import projector

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
SHOWN = ("id", "version", "name", "description", "price_amount", "price_currency")


def history(seed: int) -> list[tuple[datetime, list[Any]]]:
    """Batches of events, each recorded at one instant: products created, renamed, repriced
    (sometimes twice in one batch) and deleted, in a random but valid order."""
    rng = random.Random(seed)
    alive: list[str] = []
    batches = []
    for step in range(40):
        at = T0 + timedelta(seconds=step)
        found: list[Any] = []
        for _ in range(rng.randint(1, 3)):
            choice = rng.random()
            if not alive or choice < 0.25:
                product_id = str(uuid.uuid4())
                name = f"{rng.choice(['oak', 'elm', 'ash'])}-{step}"
                found.append(
                    ProductCreated(product_id, f"T-{uuid.uuid4().hex[:8]}", name, "", Money(100, "EUR"), at)
                )
                alive.append(product_id)
            elif choice < 0.55:
                found.append(ProductPriceChanged(rng.choice(alive), Money(rng.randint(1, 999), "EUR"), at))
            elif choice < 0.85:
                found.append(ProductUpdated(rng.choice(alive), ProductChanges(f"renamed-{step}", "new"), at))
            else:
                product_id = alive.pop(rng.randrange(len(alive)))
                found.append(ProductDeleted(product_id, "-", at))
        batches.append((at, found))
    return batches


def record(database: str, batches: list[tuple[datetime, list[Any]]]) -> None:
    versions: dict[str, int] = {}
    for at, found in batches:
        by_stream: dict[str, list[Any]] = {}
        for event in found:
            by_stream.setdefault(event.product_id, []).append(event)
        appends = []
        for stream, stream_events in by_stream.items():
            new = [registry.encode_event(event, {"command_id": None}) for event in stream_events]
            appends.append(eventstore.StreamAppend(stream, "Product", versions.get(stream, 0), new))
            versions[stream] = versions.get(stream, 0) + len(new)
        with db.writing(database) as connection:
            eventstore.append_streams(connection, appends, at)


def replay(database: str, until: datetime) -> tuple[dict[str, Row], dict[str, Row]]:
    """Every product's row after the events recorded up to `until`: those that exist then, and
    the last shown state of every product that existed (deleted ones as before their deletion)."""
    rows: dict[str, Row | None] = {}
    shown: dict[str, Row] = {}
    with db.reading(database) as connection:
        every = eventstore.read_all(connection, 0, 100_000)
    for recorded in every:
        if recorded.recorded_at <= until:
            row = evolve_row(rows.get(recorded.stream_id), recorded, registry.decode_event(recorded))
            rows[recorded.stream_id] = row
            if row is not None:
                shown[recorded.stream_id] = row
    return {k: v for k, v in rows.items() if v is not None}, shown


def catalog_at(database: str, at: datetime, order: dict[str, str] | None = None) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = queries.product_page(database, 7, after, None, order, at)
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def key(node: dict[str, Any]) -> tuple[Any, ...]:
    return (node["id"], node["version"], node["name"], node["description"], node["price"]["amount"])


def row_key(row: Row) -> tuple[Any, ...]:
    return (row["id"], row["version"], row["name"], row["description"], row["price_amount"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_catalog_at_any_instant_equals_a_replay_to_it(database: str, seed: int) -> None:
    record(database, history(seed))
    projector.catch_up(config(), "product_versions")
    for tenth in range(-5, 420, 3):
        at = T0 + timedelta(seconds=tenth / 10)
        existing, _shown = replay(database, at)
        found = catalog_at(database, at)
        assert sorted(map(key, found)) == sorted(map(row_key, existing.values())), at
        assert [n["id"] for n in found] == [
            r["id"] for r in sorted(existing.values(), key=lambda r: r["created_position"])
        ]
    by_name = catalog_at(database, T0 + timedelta(seconds=20), {"field": "NAME", "direction": "DESC"})
    names = [(n["name"], n["id"]) for n in by_name]
    assert [n for n, _ in names] == sorted((n for n, _ in names), reverse=True)


def test_a_product_at_an_instant_or_a_version_is_rebuilt_from_its_events(database: str) -> None:
    batches = history(4)
    record(database, batches)
    _existing, shown = replay(database, T0 + timedelta(hours=1))
    for product_id in list(shown)[:10]:
        with db.reading(database) as connection:
            stream = eventstore.read_stream(connection, product_id)
        row: Row | None = None
        upto_version: Row | None = None
        for recorded in stream:
            _, at_that_instant = replay(database, recorded.recorded_at)
            as_of = queries.product(database, product_id, as_of=recorded.recorded_at)
            assert as_of is not None and key(as_of) == row_key(at_that_instant[product_id])
            row = evolve_row(row, recorded, registry.decode_event(recorded))
            upto_version = row or upto_version
            by_version = queries.product(database, product_id, version=recorded.version)
            assert by_version is not None and upto_version is not None
            assert key(by_version) == row_key(upto_version)
        before = stream[0].recorded_at - timedelta(microseconds=1)
        assert queries.product(database, product_id, as_of=before) is None


def test_asof_and_version_together_or_a_bad_version_are_refused(database: str) -> None:
    product_id = str(uuid.uuid4())
    with pytest.raises(UserInputError, match="not both"):
        queries.product(database, product_id, as_of=T0, version=1)
    with pytest.raises(UserInputError, match="positive"):
        queries.product(database, product_id, version=0)
