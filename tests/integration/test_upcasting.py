"""Events stored in an older shape (ProductCreated and ProductUpdated v1) are read in the newest
by every reader — aggregate loads, projections, rebuilds, history, time travel, the events feed,
— while the stored rows stay as they were written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from api.read import queries
from domain.product import UpdateProduct
from store import db, eventstore, registry, snapshots
from store.actor import ANONYMOUS
from store.records import NewEvent
from store.schema import events, products
from tests.config import config, database_url
from tests.integration.helpers import drain_all, outcome, record
from workers import projector, rebuild
from workers.projections import PROJECTIONS, sku_claims
from workers.verify import verify

T0 = datetime(2025, 1, 1, 12, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def store_v1(product_id: str) -> None:
    """A product created and renamed by a release that knew only v1 of both events."""
    metadata = {
        "command_id": str(uuid.uuid4()),
        "correlation_id": "old-release",
        "actor": ANONYMOUS.metadata(),
    }
    created = {
        "product_id": product_id,
        "sku": "OLD-1",
        "name": "Old mug",
        "description": "From 2025",
        "price": {"amount": 500, "currency": "EUR"},
        "at": T0.isoformat(),
    }
    renamed = {"product_id": product_id, "name": "Older mug", "description": None, "at": T1.isoformat()}
    with db.writing(database_url()) as connection:
        [first] = eventstore.append(
            connection, product_id, "Product", 0, [NewEvent("ProductCreated", 1, created, metadata)], T0
        )
        sku_claims.projection.apply(connection, registry.decode_event(first))  # as the handler does
        eventstore.append(
            connection, product_id, "Product", 1, [NewEvent("ProductUpdated", 1, renamed, metadata)], T1
        )


def stored_rows(product_id: str) -> list[tuple[str, int, dict[str, Any]]]:
    with db.reading(database_url()) as connection:
        rows = connection.execute(
            select(events.c.type, events.c.schema_version, events.c.data)
            .where(events.c.stream_id == product_id)
            .order_by(events.c.version)
        )
        return [(row.type, row.schema_version, row.data) for row in rows]


def test_every_reader_sees_the_newest_shape_and_the_rows_stay_as_written(database: str) -> None:
    product_id = str(uuid.uuid4())
    store_v1(product_id)
    written = stored_rows(product_id)

    # the aggregate load: the decider sees the v1 history as v2 and takes a command on it
    with db.reading(database) as connection:
        loaded = snapshots.load(connection, registry.DECIDERS["Product"], product_id)
    assert (loaded.state.name, loaded.state.categories, loaded.version) == ("Older mug", (), 2)
    command = record(UpdateProduct(product_id, None, None, T1 + timedelta(hours=1), ("Kitchen",)))
    drain_all()
    assert outcome(command) == ("SUCCEEDED", None)

    # projections: the read table from the v1 events, then the v2 one
    projector.catch_up_all(config(), list(PROJECTIONS))
    with db.reading(database) as connection:
        row = connection.execute(select(products).where(products.c.id == product_id)).one()
    assert (row.name, row.categories, row.version) == ("Older mug", "|Kitchen|", 3)
    shown = queries.product(database, product_id)
    assert shown is not None and shown["categories"] == ["Kitchen"]

    # time travel: as it was before the categories, from the upcast v1 events
    past = queries.product(database, product_id, as_of=T1 + timedelta(minutes=1))
    assert past is not None and (past["name"], past["categories"], past["version"]) == ("Older mug", [], 2)
    first = queries.product(database, product_id, version=1)
    assert first is not None and (first["name"], first["categories"]) == ("Old mug", [])

    # history and the events feed: newest schemaVersion and shape
    history = queries.history(database, product_id, None, None)
    assert [(e["type"], e["schemaVersion"]) for e in history] == [
        ("ProductCreated", 2),
        ("ProductUpdated", 2),
        ("ProductUpdated", 2),
    ]
    assert history[0]["data"]["categories"] == []
    assert history[1]["data"]["changes"] == {"name": "Older mug", "description": None, "categories": None}
    feed = queries.event_page(database, None, 10, None, product_id)
    assert [edge["node"]["data"] for edge in feed["edges"]] == [e["data"] for e in history]

    # rebuilds replay the upcast events to the same rows; verify notes the old shapes, finds no fault
    assert rebuild.differences(config(), "products", lambda *_: None) == []
    assert rebuild.differences(config(), "product_versions", lambda *_: None) == []
    report = verify(database)
    assert report.ok, report.violations
    assert "1 ProductCreated events stored as v1, read as v2" in report.notes

    # and nothing was rewritten
    assert stored_rows(product_id)[:2] == written
    assert [version for _, version, _ in stored_rows(product_id)] == [1, 1, 2]


def test_an_unreadable_stored_version_is_a_verify_violation(database: str) -> None:
    product_id = str(uuid.uuid4())
    store_v1(product_id)
    with db.writing(database) as connection:
        eventstore.append(
            connection,
            product_id,
            "Product",
            2,
            [NewEvent("ProductUpdated", 7, {"product_id": product_id}, {})],
            T1,
        )
    report = verify(database)
    assert any("ProductUpdated v7" in violation for violation in report.violations), report.violations
