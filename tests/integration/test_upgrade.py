"""A store written by the previous release (48f3dc3, `tests/fixtures/release-48f3dc3`, made by that
release's own system) opens in this one after `eventshop migrate`: catalog, histories, past
versions, the events feed, commands, checkpoints and API keys read as that release answered, old
events in their newest shape, and old streams take new commands. The suite's backend picks the
store: the SQLite file, or the PostgreSQL dump restored with psql."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from api.read import queries
from domain.money import Money
from domain.product import CreateProduct, DeleteProduct, UpdateProduct
from eventshop.cli import app
from store import api_keys, db, mailbox, registry
from store.schema import commands, projections, snapshots
from tests.config import config
from tests.integration.helpers import NOW, drain_all, outcome, record
from workers import projector
from workers.verify import verify

FIXTURE = Path(__file__).parents[1] / "fixtures" / "release-48f3dc3"
OLD_PROJECTIONS = {"products", "product_prices", "product_versions"}


@pytest.fixture
def upgraded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Any]]]:
    """The previous release's store for this suite's backend, migrated by `eventshop migrate`, and
    what that release's API answered from it."""
    expected = json.loads((FIXTURE / "expected.json").read_text())
    base = os.environ.get("DATABASE_URL", "")
    name = f"eventshop_upgrade_{uuid.uuid4().hex[:10]}"
    if base.startswith("postgres"):
        admin = create_engine(db.normalise_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(db.normalise_url(base)).set(database=name).render_as_string(hide_password=False)
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        restore = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", plain, "-f", str(FIXTURE / "postgresql.sql")]
        subprocess.run(restore, check=True, capture_output=True, timeout=120)
        store = expected["postgresql"]
    else:
        shutil.copy(FIXTURE / "eventshop.sqlite", tmp_path / "eventshop.db")
        url, store = f"sqlite:///{tmp_path / 'eventshop.db'}", expected["sqlite"]
    monkeypatch.setenv("DATABASE_URL", url)
    migrated = CliRunner().invoke(app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    yield url, store
    db.dispose(url)
    if base.startswith("postgres"):
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def shown(value: Any) -> Any:
    """An answer of this release as the previous one's JSON showed it: datetimes in ISO-8601, and
    without the fields this release added (each product's categories, checked to be empty)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [shown(item) for item in value]
    if isinstance(value, dict):
        product = "createdAt" in value and "sku" in value
        if product:
            assert value["categories"] == [], value
        return {key: shown(item) for key, item in value.items() if not (product and key == "categories")}
    return value


def all_pages(url: str, first: int, **options: Any) -> Any:
    found, after = [], None
    while True:
        page = queries.product_page(url, first, after, **options)
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return shown(found)
        after = page["pageInfo"]["endCursor"]


def newest(event: dict[str, Any]) -> dict[str, Any]:
    """An event of the previous release's feed as this release shows it: upcast to v2 when it is
    a creation (no categories) or an update (its changes grouped)."""
    data = event["data"]
    if event["type"] == "ProductCreated":
        return {**event, "schemaVersion": 2, "data": {**data, "categories": []}}
    if event["type"] == "ProductUpdated":
        changes = {"name": data["name"], "description": data["description"], "categories": None}
        grouped = {"product_id": data["product_id"], "changes": changes, "at": data["at"]}
        return {**event, "schemaVersion": 2, "data": grouped}
    return event


def test_the_previous_release_store_reads_as_that_release_answered(
    upgraded: tuple[str, dict[str, Any]],
) -> None:
    url, store = upgraded
    for product_id, product in store["products"].items():
        assert shown(queries.product(url, product_id)) == product, product_id
    for product_id, versions in store["productAtVersion"].items():
        for version, product in versions.items():
            assert shown(queries.product(url, product_id, version=int(version))) == product, (
                product_id,
                version,
            )
    as_of = datetime.fromisoformat(store["productAsOf"]["asOf"])
    for product_id, product in store["productAsOf"]["products"].items():
        assert shown(queries.product(url, product_id, as_of=as_of)) == product, product_id

    def nodes(catalog: dict[str, Any]) -> list[Any]:
        return [edge["node"] for page in catalog["pages"] for edge in page["edges"]]

    assert all_pages(url, 8) == nodes(store["catalog"])
    by_price = store["catalogByPriceDesc"]
    assert all_pages(url, 8, order_by=by_price["orderBy"]) == nodes(by_price)
    past = store["catalogAsOf"]
    assert all_pages(url, 8, as_of=datetime.fromisoformat(past["asOf"])) == nodes(past)

    feed = queries.event_page(url, None, 1000, None, None)
    assert not feed["pageInfo"]["hasNextPage"]
    assert shown([edge["node"] for edge in feed["edges"]]) == [newest(e) for e in store["events"]]
    for product_id, positions in store["productHistory"].items():
        assert [e["position"] for e in queries.history(url, product_id, None, None)] == positions

    with db.reading(url) as connection:
        rows = {row.id: row for row in connection.execute(select(commands))}
        checkpoints = {row.name: row.position for row in connection.execute(select(projections))}
        live, revoked = (api_keys.find(connection, store["apiKeys"][n]["key"]) for n in store["apiKeys"])
    for command_id, command in store["commands"].items():
        if command is None:  # refused before it was recorded (bad input, no credential)
            assert command_id not in rows
            continue
        row = rows[command_id]
        assert (row.type, row.aggregate_id, row.status, row.error, row.actor) == (
            command["type"],
            command["aggregateId"],
            command["status"],
            command["error"],
            command["actor"],
        ), command_id
    head = len(store["events"])
    assert {name: checkpoints[name] for name in OLD_PROJECTIONS} == dict.fromkeys(OLD_PROJECTIONS, head)
    assert set(checkpoints) == set(projector.names())  # the new ones, made by migrate
    assert live is not None and live.roles == ("catalog:write",) and revoked is None

    report = verify(url)
    assert report.ok, report.violations
    assert any("ProductCreated events stored as v1, read as v2" in note for note in report.notes)


def test_a_command_recorded_by_the_previous_release_sent_again_is_the_same_command(
    upgraded: tuple[str, dict[str, Any]],
) -> None:
    url, _store = upgraded
    with db.reading(url) as connection:
        old = connection.execute(select(commands).where(commands.c.type == "CreateProduct").limit(1)).one()
    assert "categories" not in old.payload
    again = mailbox.NewCommand(
        old.id, old.type, old.aggregate_type, old.aggregate_id, old.partition,
        {**old.payload, "categories": []}, old.submitted_at,
    )  # fmt: skip
    changed = mailbox.NewCommand(**{**again.__dict__, "payload": {**again.payload, "categories": ["x"]}})
    with db.writing(url) as connection:
        receipt = mailbox.record(connection, again)
        assert (receipt.new, receipt.status) == (False, "SUCCEEDED")  # its first receipt, not a conflict
        with pytest.raises(mailbox.CommandIdConflict):
            mailbox.record(connection, changed)


def test_old_streams_take_new_commands_and_new_projections_catch_up(
    upgraded: tuple[str, dict[str, Any]],
) -> None:
    url, store = upgraded
    ids = store["productIds"]
    big, mug = ids["big"], ids["p0"]
    deleted = next(i for i, p in store["products"].items() if p is None and i in ids.values())
    updated = record(UpdateProduct(big, None, None, NOW, ("Bulk",)))
    renamed = record(UpdateProduct(mug, "Espresso mug, v2", None, NOW))
    gone = record(DeleteProduct(deleted, NOW))
    taken = record(
        CreateProduct(str(uuid.uuid4()), store["products"][mug]["sku"], "Copy", "", Money(1, "EUR"), NOW)
    )
    drain_all()
    assert [outcome(c)[0] for c in (updated, renamed, gone, taken)] == [
        "SUCCEEDED",
        "SUCCEEDED",
        "REJECTED",
        "REJECTED",
    ]
    projector.catch_up_all(config(), projector.names())
    assert queries.product(url, big)["categories"] == ["Bulk"]  # type: ignore[index]
    assert queries.product(url, mug)["version"] == store["products"][mug]["version"] + 1  # type: ignore[index]
    with db.reading(url) as connection:
        snapshot = connection.execute(select(snapshots).where(snapshots.c.stream_id == big)).one()
        positions = set(connection.execute(select(projections.c.position)).scalars())
    shape = registry.DECIDERS["Product"].state_version
    assert (snapshot.schema_version, snapshot.version) == (shape, len(store["productHistory"][big]) + 1)
    assert positions == {len(store["events"]) + 2}
    report = verify(url)
    assert report.ok, report.violations
