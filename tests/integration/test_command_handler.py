"""Draining mailboxes: recorded order, one transaction per batch, rejections, sku uniqueness."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from domain import product
from store import db, eventstore, mailbox, registry
from store.actor import API_KEY, Actor
from store.schema import commands, events, sku_claims, snapshots
from store.snapshots import load as load_snapshot
from tests.config import config, database_url
from tests.integration.helpers import create, delete, name_in, outcome, partition, record, rename, reprice
from workers import command_handler


def history(product_id: str) -> list[eventstore.RecordedEvent]:
    with db.reading(database_url()) as connection:
        return eventstore.read_stream(connection, product_id)


def test_commands_are_applied_in_recorded_order_across_batches(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSHOP_COMMAND_BATCH", "2")
    product_id = str(uuid.uuid4())
    ids = [record(create(product_id))] + [record(rename(product_id, f"name {n}")) for n in range(4)]
    batches: list[command_handler.Batch] = []
    assert command_handler.drain(config(), partition(product_id), on_batch=batches.append) == 5
    assert [outcome(command_id) for command_id in ids] == [("SUCCEEDED", None)] * 5
    stream = history(product_id)
    assert [e.version for e in stream] == [1, 2, 3, 4, 5]
    assert [name_in(e.data) for e in stream] == ["Mug", "name 0", "name 1", "name 2", "name 3"]
    assert [batch.handled for batch in batches] == [2, 2, 1]
    outcomes = [o for batch in batches for o in batch.outcomes]
    assert [o.command_id for o in outcomes] == ids
    assert [o.position for o in outcomes] == [e.position for e in stream]


def test_a_handled_command_keeps_the_position_of_its_last_event(database: str) -> None:
    product_id = str(uuid.uuid4())
    created = record(create(product_id))
    rejected = record(create(product_id))
    command_handler.drain(config(), partition(product_id))
    with db.reading(database) as connection:
        rows = {
            r.id: r for r in connection.execute(select(commands.c.id, commands.c.position, commands.c.status))
        }
    assert rows[created].position == history(product_id)[-1].position
    assert (rows[rejected].status, rows[rejected].position) == ("REJECTED", None)


def test_events_carry_command_metadata_and_the_actor_recorded_at_submission(database: str) -> None:
    product_id = str(uuid.uuid4())
    actor = Actor("importer", API_KEY, ("catalog:write",))
    command_id = record(create(product_id), actor=actor)
    command_handler.drain(config(), partition(product_id))
    (event,) = history(product_id)
    assert event.metadata == {
        "command_id": command_id,
        "correlation_id": command_id,
        "causation_id": command_id,
        "actor": {"subject": "importer", "credential": "apikey", "roles": ["catalog:write"]},
    }
    assert (event.stream_type, event.type, event.schema_version) == ("Product", "ProductCreated", 2)


def test_rejections_append_nothing_and_say_why(database: str) -> None:
    known, unknown = str(uuid.uuid4()), str(uuid.uuid4())
    ids = [
        record(reprice(unknown, 5)),
        record(create(known)),
        record(create(known, sku="OTHER")),
        record(delete(known)),
        record(rename(known, "again")),
    ]
    command_handler.drain(config(), partition(unknown))
    command_handler.drain(config(), partition(known))
    assert [outcome(command_id) for command_id in ids] == [
        ("REJECTED", "product not found"),
        ("SUCCEEDED", None),
        ("REJECTED", "product already exists"),
        ("SUCCEEDED", None),
        ("REJECTED", "product deleted"),
    ]
    assert [e.type for e in history(known)] == ["ProductCreated", "ProductDeleted"]
    assert history(unknown) == []


def test_a_change_that_changes_nothing_succeeds_and_appends_nothing(database: str) -> None:
    product_id = str(uuid.uuid4())
    ids = [
        record(create(product_id, amount=100)),
        record(reprice(product_id, 100)),
        record(rename(product_id, " Mug ")),
    ]
    command_handler.drain(config(), partition(product_id))
    assert [outcome(command_id)[0] for command_id in ids] == ["SUCCEEDED"] * 3
    assert len(history(product_id)) == 1


def test_draining_again_appends_nothing(database: str) -> None:
    product_id = str(uuid.uuid4())
    record(create(product_id))
    command_handler.drain(config(), partition(product_id))
    assert command_handler.drain(config(), partition(product_id)) == 0
    assert len(history(product_id)) == 1


def test_a_live_sku_is_unique_and_a_deleted_product_frees_it(database: str) -> None:
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    a = record(create(first, sku="MUG-1"))
    command_handler.drain(config(), partition(first))
    b = record(create(second, sku="MUG-1"))
    command_handler.drain(config(), partition(second))
    record(delete(first))
    command_handler.drain(config(), partition(first))
    c = record(create(third, sku="MUG-1"))
    command_handler.drain(config(), partition(third))
    assert outcome(a) == ("SUCCEEDED", None)
    assert outcome(b) == ("REJECTED", "sku MUG-1 is already in use")
    assert outcome(c) == ("SUCCEEDED", None)
    assert history(second) == []
    with db.reading(database_url()) as connection:
        assert connection.execute(select(sku_claims.c.product_id)).scalars().all() == [third]


def _create_and_drain(url: str, product_id: str, sku: str, start: multiprocessing.synchronize.Event) -> None:
    record(create(product_id, sku=sku), url=url)
    start.wait(30)
    os.environ["DATABASE_URL"] = url
    command_handler.drain(config(), partition(product_id))


def test_sku_uniqueness_holds_under_concurrent_creates(database: str) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    product_ids = [str(uuid.uuid4()) for _ in range(6)]
    processes = [
        context.Process(target=_create_and_drain, args=(database, product_id, "RACE-1", start))
        for product_id in product_ids
    ]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    with db.reading(database_url()) as connection:
        statuses = connection.execute(select(commands.c.status)).scalars().all()
        created = connection.execute(select(func.count()).select_from(events)).scalar_one()
    assert sorted(statuses) == ["REJECTED"] * 5 + ["SUCCEEDED"]
    assert created == 1


def test_failed_tries_are_counted_and_end_failed(database: str) -> None:
    product_id = str(uuid.uuid4())
    command_id = record(create(product_id))
    at = datetime.now(UTC)
    with db.reading(database_url()) as connection:
        seqs = [connection.execute(select(commands.c.seq).where(commands.c.id == command_id)).scalar_one()]
    for _ in range(2):
        with db.writing(database_url()) as connection:
            assert mailbox.count_attempt(connection, seqs, 3, at) == 0
    with db.writing(database_url()) as connection:
        assert mailbox.count_attempt(connection, seqs, 3, at) == 1
    assert outcome(command_id) == ("FAILED", "could not be handled after 3 attempts")
    assert command_handler.drain(config(), partition(product_id)) == 0


def test_database_errors_are_retried_then_end_failed(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSHOP_MAX_ATTEMPTS", "3")
    product_id = str(uuid.uuid4())
    command_id = record(create(product_id))

    def broken(url: str, partition: int, limit: int) -> command_handler.Batch:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(command_handler, "handle_batch", broken)
    for attempt in range(3):
        assert outcome(command_id)[0] == "PENDING", attempt
        with pytest.raises(command_handler.TransientError):
            command_handler.drain(config(), partition(product_id))
    assert outcome(command_id) == ("FAILED", "could not be handled after 3 attempts")
    assert history(product_id) == []


def test_snapshots_are_taken_and_loading_from_one_gives_the_full_replay(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSHOP_COMMAND_BATCH", "40")
    product_id = str(uuid.uuid4())
    record(create(product_id))
    for n in range(249):
        record(reprice(product_id, 1000 + n))
    command_handler.drain(config(), partition(product_id))
    with db.reading(database_url()) as connection:
        snapshot = connection.execute(select(snapshots)).one()
        loaded = load_snapshot(connection, product.decider, product_id)
        full = product.decider.fold(
            [registry.decode_event(e) for e in eventstore.read_stream(connection, product_id)]
        )
    assert snapshot.version >= 200 and loaded.since == snapshot.version
    assert (loaded.state, loaded.version) == (full, 250)
    assert loaded.state.price.amount == 1248
    record(reprice(product_id, 7))
    command_handler.drain(config(), partition(product_id))
    assert [e.version for e in history(product_id)][-1] == 251


def test_a_snapshot_of_another_state_version_is_ignored(database: str) -> None:
    product_id = str(uuid.uuid4())
    record(create(product_id))
    command_handler.drain(config(), partition(product_id))
    with db.writing(database_url()) as connection:
        connection.execute(
            insert(snapshots).values(
                stream_id=product_id,
                version=1,
                schema_version=product.decider.state_version + 1,
                state={"garbage": True},
                taken_at=datetime.now(UTC),
            )
        )
        loaded = load_snapshot(connection, product.decider, product_id)
    assert (loaded.state.name, loaded.version, loaded.since) == ("Mug", 1, 0)
