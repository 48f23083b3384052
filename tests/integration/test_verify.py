"""`eventshop verify` finds each kind of broken invariant, and passes a healthy store."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, delete, insert, select, update

from store import db, eventstore, registry
from store.records import NewEvent
from store.schema import commands, events, personal_keys, products, projections, snapshots
from tests.config import config, database_url
from tests.integration.helpers import create, partition, record, rename, reprice
from workers import command_handler, projector
from workers.projections import PROJECTIONS


def healthy() -> tuple[str, str]:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for command in (
        create(first, sku="V-1"),
        rename(first, "Cup"),
        reprice(first, 7),
        create(second, sku="V-2"),
    ):
        record(command)
    command_handler.drain(config(), partition(first))
    command_handler.drain(config(), partition(second))
    for name in PROJECTIONS:
        projector.catch_up(config(), name)
    return first, second


def violations() -> list[str]:
    from workers.verify import verify

    return verify(database_url()).violations


def test_a_healthy_store_verifies(database: str) -> None:
    healthy()
    assert violations() == []


def test_verify_on_a_projection_behind_the_head_compares_up_to_its_checkpoint(database: str) -> None:
    first, _ = healthy()
    record(rename(first, "Later"))
    command_handler.drain(config(), partition(first))
    assert violations() == []


def _drop_version_2(connection: Connection, first: str, second: str) -> None:
    connection.execute(delete(events).where(events.c.stream_id == first, events.c.version == 2))


def _tamper_read_table(connection: Connection, first: str, second: str) -> None:
    connection.execute(update(products).where(products.c.id == first).values(name="Tampered"))


def _checkpoint_past_head(connection: Connection, first: str, second: str) -> None:
    connection.execute(update(projections).where(projections.c.name == "products").values(position=99))


def _command_in_two_batches(connection: Connection, first: str, second: str) -> None:
    command_id = connection.execute(
        select(events.c.command_id).where(events.c.stream_id == first, events.c.version == 1)
    ).scalar_one()
    connection.execute(update(events).where(events.c.stream_id == second).values(command_id=command_id))


def _events_of_a_rejected_command(connection: Connection, first: str, second: str) -> None:
    connection.execute(update(commands).where(commands.c.aggregate_id == second).values(status="REJECTED"))


def _wrong_snapshot(connection: Connection, first: str, second: str) -> None:
    state = {
        "exists": True,
        "deleted": False,
        "sku": "V-1",
        "name": "Wrong",
        "description": "",
        "price": {"amount": 7, "currency": "EUR"},
        "categories": [],
    }
    shape = registry.DECIDERS["Product"].state_version
    connection.execute(
        insert(snapshots).values(
            stream_id=first, version=3, schema_version=shape, state=state, taken_at=datetime.now(UTC)
        )
    )


@pytest.mark.parametrize(
    ("damage", "invariants"),
    [
        (_drop_version_2, {"I1", "I3", "I4"}),
        (_tamper_read_table, {"I4"}),
        (_checkpoint_past_head, {"I5"}),
        (_command_in_two_batches, {"I2"}),
        (_events_of_a_rejected_command, {"I2"}),
        (_wrong_snapshot, {"I4"}),
    ],
)
def test_verify_reports_each_broken_invariant(
    database: str, damage: Callable[[Connection, str, str], None], invariants: set[str]
) -> None:
    first, second = healthy()
    with db.writing(database_url()) as connection:
        damage(connection, first, second)
    found = violations()
    assert {violation.split(":")[0] for violation in found} >= invariants, found


def test_the_command_exits_non_zero_on_a_violation(database: str) -> None:
    first, _ = healthy()
    env = {**os.environ, "DATABASE_URL": database}
    command = [sys.executable, "-m", "eventshop", "verify"]
    good = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "all invariants hold" in good.stdout
    with db.writing(database_url()) as connection:
        _tamper_read_table(connection, first, "")
    bad = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "I4: table products differs" in bad.stdout


def test_verify_finds_personal_data_stored_plain_and_a_forgotten_customers_key(database: str) -> None:
    customer_id = str(uuid.uuid4())
    at = datetime.now(UTC)
    with db.writing(database) as connection:
        eventstore.append(
            connection,
            customer_id,
            "Customer",
            0,
            [
                NewEvent(
                    "CustomerRegistered",
                    1,
                    {
                        "customer_id": customer_id,
                        "name": "Ada",
                        "email": "pd1:x",
                        "address": None,
                        "owner": "o",
                        "at": at.isoformat(),
                    },
                    {},
                ),
                NewEvent("CustomerForgotten", 1, {"customer_id": customer_id, "at": at.isoformat()}, {}),
            ],
            at,
        )
        connection.execute(
            insert(personal_keys).values(subject=customer_id, wrapped_by="k", wrapped=b"key", created_at=at)
        )
    found = [v for v in violations() if v.startswith("personal data")]
    assert found == [
        "personal data: 1 plain values in events",
        "personal data: 1 forgotten customers still have a key",
    ], found
