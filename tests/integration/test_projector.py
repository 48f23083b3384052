"""Projections: checkpoint and rows commit together (I5); a failing event halts visibly (I7)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError

from tests.integration.helpers import create, delete, record, rename, reprice
from workers import command_handler, db, projector, registry
from workers.eventstore import RecordedEvent
from workers.projections import Projection
from workers.projections import products as products_projection
from workers.schema import products, projections


def checkpoint() -> Any:
    with db.reading() as connection:
        return connection.execute(select(projections).where(projections.c.name == "products")).one()


def rows() -> dict[str, tuple[str, int, int]]:
    with db.reading() as connection:
        found = connection.execute(select(products)).all()
    return {row.id: (row.name, row.price_amount, row.version) for row in found}


def seed() -> tuple[str, str]:
    kept, gone = str(uuid.uuid4()), str(uuid.uuid4())
    commands: list[Any] = [create(kept, sku="K-1"), rename(kept, "Cup"), reprice(kept, 250)]
    for command in [*commands, create(gone, sku="G-1"), delete(gone)]:
        record(command)
    command_handler.drain(kept)
    command_handler.drain(gone)
    return kept, gone


def test_catch_up_builds_the_products_table(database: str) -> None:
    kept, _gone = seed()
    assert projector.catch_up("products", batch_size=2) == 5
    assert rows() == {kept: ("Cup", 250, 3)}
    assert (checkpoint().position, checkpoint().status) == (5, "RUNNING")
    assert projector.catch_up("products") == 0
    assert projector.behind() == []


def _failing_at(position: int, error: Exception) -> Projection:
    def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
        if recorded.position == position:
            raise error
        products_projection.apply(connection, recorded, event)

    return Projection("products", (products,), apply)


def test_a_database_error_mid_batch_leaves_neither_rows_nor_checkpoint(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed()
    broken = _failing_at(3, OperationalError("UPDATE", {}, Exception("connection lost")))
    monkeypatch.setitem(registry.PROJECTIONS, "products", broken)
    with pytest.raises(OperationalError):
        projector.catch_up("products", batch_size=10)
    assert rows() == {}
    with db.reading() as connection:
        assert connection.execute(select(projections.c.position)).scalar() in (None, 0)
    assert projector.behind() == ["products"]


def test_a_failing_event_halts_the_projection_at_it(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kept, _gone = seed()
    monkeypatch.setitem(registry.PROJECTIONS, "products", _failing_at(3, ValueError("bad event")))
    assert projector.catch_up("products", batch_size=10) == 2
    halted = checkpoint()
    assert (halted.status, halted.position, halted.error_position) == ("HALTED", 2, 3)
    assert halted.error == "ValueError: bad event"
    assert rows() == {kept: ("Cup", 100, 2)}
    assert projector.catch_up("products") == 0
    assert projector.behind() == []
