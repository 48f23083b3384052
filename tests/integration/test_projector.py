"""Projections: checkpoint and rows commit together (I5); a failing event halts visibly (I7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from sqlalchemy import Connection, select, update
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import OperationalError

from store import db
from store.eventstore import RecordedEvent
from store.schema import product_prices, products, projection_skips, projections
from tests.config import config, database_url
from tests.integration.helpers import create, delete, partition, record, rename, reprice
from workers import command_handler, projector
from workers.projections import PROJECTIONS
from workers.projections import products as products_projection
from workers.projections.base import Projection


def checkpoint() -> Any:
    with db.reading(database_url()) as connection:
        return connection.execute(select(projections).where(projections.c.name == "products")).one()


def rows() -> dict[str, tuple[str, int, int]]:
    with db.reading(database_url()) as connection:
        found = connection.execute(select(products)).all()
    return {row.id: (row.name, row.price_amount, row.version) for row in found}


def seed() -> tuple[str, str]:
    kept, gone = str(uuid.uuid4()), str(uuid.uuid4())
    commands: list[Any] = [create(kept, sku="K-1"), rename(kept, "Cup"), reprice(kept, 250)]
    for command in [*commands, create(gone, sku="G-1"), delete(gone)]:
        record(command)
    command_handler.drain(config(), partition(kept))
    command_handler.drain(config(), partition(gone))
    return kept, gone


def test_catch_up_builds_the_products_table(database: str) -> None:
    kept, _gone = seed()
    assert projector.catch_up(config(), "products", batch_size=2) == 5
    assert rows() == {kept: ("Cup", 250, 3)}
    assert (checkpoint().position, checkpoint().status) == (5, "RUNNING")
    assert projector.catch_up(config(), "products") == 0
    assert "products" not in projector.behind(database_url())


def test_catch_up_builds_the_price_history(database: str) -> None:
    kept, gone = seed()
    assert projector.catch_up(config(), "product_prices") == 5
    with db.reading(database_url()) as connection:
        found = connection.execute(select(product_prices)).all()
    assert {(r.product_id, r.version, r.price_amount) for r in found} == {
        (kept, 1, 100),
        (gone, 1, 100),
        (kept, 3, 250),
    }


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
    monkeypatch.setitem(PROJECTIONS, "products", broken)
    with pytest.raises(OperationalError):
        projector.catch_up(config(), "products", batch_size=10)
    assert rows() == {}
    with db.reading(database_url()) as connection:
        assert connection.execute(select(projections.c.position)).scalar() in (None, 0)
    assert "products" in projector.behind(database_url())


def test_a_failing_event_is_retried_then_halts_the_projection_at_it(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSHOP_MAX_ATTEMPTS", "2")
    kept, _gone = seed()
    monkeypatch.setitem(PROJECTIONS, "products", _failing_at(3, ValueError("bad event")))
    with pytest.raises(projector.RetryLater):
        projector.catch_up(config(), "products", batch_size=10)
    first = checkpoint()
    assert (first.status, first.position, first.error_position, first.attempts) == ("RUNNING", 2, 3, 1)
    assert projector.catch_up(config(), "products", batch_size=10) == 0
    halted = checkpoint()
    assert (halted.status, halted.position, halted.error_position) == ("HALTED", 2, 3)
    assert halted.error == "ValueError: bad event"
    assert rows() == {kept: ("Cup", 100, 2)}
    assert projector.catch_up(config(), "products") == 0
    assert "products" not in projector.behind(database_url())
    (status,) = [s for s in projector.statuses(database_url()) if s.name == "products"]
    assert (status.position, status.head, status.lag, status.status) == (2, 5, 3, "HALTED")
    others = [s.status for s in projector.statuses(database_url()) if s.name != "products"]
    assert others == ["RUNNING"] * (len(projector.names()) - 1)


def test_resume_after_the_fix_reaches_the_head(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSHOP_MAX_ATTEMPTS", "1")
    kept, _gone = seed()
    with monkeypatch.context() as patch:
        patch.setitem(PROJECTIONS, "products", _failing_at(3, ValueError("bad event")))
        projector.catch_up(config(), "products")
    assert checkpoint().status == "HALTED"
    projector.resume(database_url(), "products")
    assert projector.catch_up(config(), "products") == 3
    assert (checkpoint().status, checkpoint().position, checkpoint().error) == ("RUNNING", 5, None)
    assert rows() == {kept: ("Cup", 250, 3)}


def test_skip_steps_over_the_failing_event_and_records_who(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSHOP_MAX_ATTEMPTS", "1")
    kept, _gone = seed()
    monkeypatch.setitem(PROJECTIONS, "products", _failing_at(3, ValueError("bad event")))
    projector.catch_up(config(), "products")
    with pytest.raises(projector.NotHalted):
        projector.skip(database_url(), "products", 4, by="ops")
    projector.skip(database_url(), "products", 3, by="ops")
    assert projector.catch_up(config(), "products") == 2
    assert rows() == {kept: ("Cup", 100, 2)}
    with db.reading(database_url()) as connection:
        (skipped,) = connection.execute(select(projection_skips)).all()
    assert (skipped.projection, skipped.position, skipped.event_type) == (
        "products",
        3,
        "ProductPriceChanged",
    )
    assert (skipped.skipped_by, skipped.error) == ("ops", "ValueError: bad event")


def test_the_projections_command_shows_skips_and_refuses_a_wrong_position(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSHOP_MAX_ATTEMPTS", "1")
    seed()
    monkeypatch.setitem(PROJECTIONS, "products", _failing_at(3, ValueError("bad event")))
    projector.catch_up(config(), "products")
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": "redis://127.0.0.1:1/0"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "eventshop", "projections", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    (products_status,) = [json.loads(line) for line in cli("status", "--json").stdout.splitlines()][:1]
    assert (products_status["name"], products_status["status"], products_status["error_position"]) == (
        "products",
        "HALTED",
        3,
    )
    assert cli("skip", "products", "--position", "2").returncode == 1
    assert cli("skip", "nope", "--position", "3").returncode == 2
    done = cli("skip", "products", "--position", "3", "--by", "alice")
    assert done.returncode == 0, done.stdout + done.stderr
    with db.reading(database_url()) as connection:
        assert connection.execute(select(projection_skips.c.skipped_by)).scalars().all() == ["alice"]
    assert checkpoint().status == "RUNNING"


def test_a_rebuild_replays_every_event_into_empty_tables(database: str) -> None:
    kept, _gone = seed()
    projector.catch_up(config(), "products")
    with db.writing(database_url()) as connection:
        connection.execute(update(products).values(name="Stale"))
    projector.reset(database_url(), "products")
    assert rows() == {}
    assert (checkpoint().position, checkpoint().status) == (0, "RUNNING")
    assert projector.catch_up(config(), "products") == 5
    assert rows() == {kept: ("Cup", 250, 3)}


def test_catch_up_all_moves_every_projection_past_a_failing_one(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed()
    monkeypatch.setitem(PROJECTIONS, "products", _failing_at(3, ValueError("bad event")))
    with pytest.raises(projector.RetryLater):
        projector.catch_up_all(config(), projector.names())
    status = {s.name: s for s in projector.statuses(database_url())}
    assert (status["products"].position, status["product_prices"].position) == (2, 5)


def test_catch_up_all_reads_each_batch_of_events_once_for_every_projection(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed()
    monkeypatch.setenv("EVENTSHOP_PROJECTION_BATCH", "3")
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM events " in statement.replace("\n", " "):
            reads.append(statement)

    engine = db.engine(database_url())
    sqlalchemy_event.listen(engine, "before_cursor_execute", seen)
    try:
        assert projector.catch_up_all(config(), projector.names()) == 5 * len(projector.names())
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", seen)
    assert len(reads) == 2  # events 1-3, then 4-5: not once per projection
    assert all(s.position == 5 for s in projector.statuses(database_url()))
    assert rows() != {}


def test_a_database_error_while_projecting_together_keeps_nothing_of_the_batch(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed()
    broken = _failing_at(3, OperationalError("UPDATE", {}, Exception("connection lost")))
    monkeypatch.setitem(PROJECTIONS, "product_versions", broken)
    with pytest.raises(OperationalError):
        projector.catch_up_all(config(), projector.names())
    assert rows() == {}
    assert {s.position for s in projector.statuses(database_url())} == {0}
