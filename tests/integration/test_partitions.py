"""Partitioned mailboxes: many aggregates per transaction, outcomes per command, order per aggregate."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from domain import product
from store import db, eventstore, mailbox, registry
from store.schema import commands, events
from tests.config import config, database_url
from tests.integration.helpers import create, name_in, outcome, record, rename, reprice
from workers import command_handler


def stream(product_id: str) -> list[eventstore.RecordedEvent]:
    with db.reading(database_url()) as connection:
        return eventstore.read_stream(connection, product_id)


def completed_at(command_ids: list[str]) -> set[Any]:
    with db.reading(database_url()) as connection:
        rows = connection.execute(select(commands.c.completed_at).where(commands.c.id.in_(command_ids)))
        return set(rows.scalars())


def test_one_transaction_handles_many_aggregates_of_a_partition(database: str) -> None:
    products = [str(uuid.uuid4()) for _ in range(20)]
    ids = [record(create(p, sku=f"P-{n}"), partitions=1) for n, p in enumerate(products)]
    assert command_handler.drain(config(), 0) == 20
    assert [outcome(command_id) for command_id in ids] == [("SUCCEEDED", None)] * 20
    assert len(completed_at(ids)) == 1, "the commands were not completed in one transaction"
    with db.reading(database_url()) as connection:
        rows = connection.execute(select(events.c.position, events.c.recorded_at).order_by(events.c.position))
        positions, recorded = zip(*rows, strict=True)
    assert list(positions) == list(range(1, 21)) and len(set(recorded)) == 1


def test_a_rejection_and_an_internal_error_never_undo_their_neighbours(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = str(uuid.uuid4())

    def decide(command: Any, state: Any) -> Any:
        if command.product_id == broken:
            raise RuntimeError("a bug in decide")
        return product.decide(command, state)

    monkeypatch.setitem(registry.DECIDERS, "Product", dataclasses.replace(product.decider, decide=decide))
    good = [str(uuid.uuid4()) for _ in range(5)]
    ids = [record(create(p, sku=f"G-{n}"), partitions=1) for n, p in enumerate(good)]
    rejected = record(reprice(str(uuid.uuid4()), 5), partitions=1)
    failed = record(create(broken, sku="BROKEN"), partitions=1)
    ids += [record(rename(p, "Renamed"), partitions=1) for p in good]
    assert command_handler.drain(config(), 0) == 12
    assert outcome(rejected) == ("REJECTED", "product not found")
    assert outcome(failed) == ("FAILED", "internal error while handling the command")
    assert [outcome(command_id) for command_id in ids] == [("SUCCEEDED", None)] * 10
    assert len(completed_at([*ids, rejected, failed])) == 1
    assert all([e.version for e in stream(p)] == [1, 2] for p in good)
    assert stream(broken) == []


def test_a_command_that_breaks_its_batch_ends_alone_and_its_neighbours_succeed(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSHOP_MAX_ATTEMPTS", "3")
    poison = str(uuid.uuid4())
    original = product.decide

    def decide(command: Any, state: Any) -> Any:
        if command.product_id == poison:
            raise OperationalError("INSERT", {}, Exception("the database refuses this one"))
        return original(command, state)

    monkeypatch.setitem(registry.DECIDERS, "Product", dataclasses.replace(product.decider, decide=decide))
    first = record(create(str(uuid.uuid4()), sku="N-1"), partitions=1)
    bad = record(create(poison, sku="POISON"), partitions=1)
    last = record(create(str(uuid.uuid4()), sku="N-2"), partitions=1)
    for _ in range(10):
        try:
            command_handler.drain(config(), 0)
            break
        except command_handler.TransientError:
            pass
    assert outcome(bad) == ("FAILED", "could not be handled after 3 attempts")
    assert outcome(first) == outcome(last) == ("SUCCEEDED", None)


def test_changing_the_number_of_partitions_keeps_each_aggregates_order(database: str) -> None:
    product_id = next(p for p in (str(uuid.uuid4()) for _ in range(100)) if _moves(p, 4, 7))
    before = [record(create(product_id), partitions=4)]
    before += [record(rename(product_id, f"old {n}"), partitions=4) for n in range(3)]
    after = [record(rename(product_id, f"new {n}"), partitions=7) for n in range(3)]
    assert command_handler.drain(config(), mailbox.partition_of(product_id, 7)) == 7
    assert command_handler.drain(config(), mailbox.partition_of(product_id, 4)) == 0
    assert [outcome(command_id)[0] for command_id in before + after] == ["SUCCEEDED"] * 7
    names = [name_in(e.data) for e in stream(product_id)]
    assert names == ["Mug", "old 0", "old 1", "old 2", "new 0", "new 1", "new 2"]


def _moves(product_id: str, old: int, new: int) -> bool:
    return mailbox.partition_of(product_id, old) != mailbox.partition_of(product_id, new)


def _drain_partition(url: str, start: multiprocessing.synchronize.Event) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["EVENTSHOP_COMMAND_BATCH"] = "7"
    start.wait(30)
    command_handler.drain(config(), 0)


def test_two_workers_racing_for_one_partition_handle_each_command_once_in_order(database: str) -> None:
    products = [str(uuid.uuid4()) for _ in range(10)]
    for n, product_id in enumerate(products):
        record(create(product_id, sku=f"RACE-{n}"), partitions=1)
    for k in range(5):
        for product_id in products:
            record(rename(product_id, f"name {k}"), partitions=1)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_drain_partition, args=(database, start)) for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with db.reading(database_url()) as connection:
        assert set(connection.execute(select(commands.c.status)).scalars()) == {"SUCCEEDED"}
    for product_id in products:
        found = stream(product_id)
        assert [e.version for e in found] == [1, 2, 3, 4, 5, 6]
        assert [name_in(e.data) for e in found] == ["Mug"] + [f"name {k}" for k in range(5)]
