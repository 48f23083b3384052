"""Rebuilding a projection with no downtime: the live table serves every row throughout while
writes go on, the switch lands the new version at the head, a dry run finds every difference,
and a rebuild that cannot apply an event leaves the live version as it was."""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from eventshop.cli import app
from store import db
from store.schema import product_versions, products, projection_rebuilds
from tests.config import config, database_url
from tests.integration.helpers import create, drain_all, record, rename, reprice
from workers import projector, rebuild
from workers.projections import PROJECTIONS
from workers.projections.base import Projection
from workers.verify import verify


def seed(count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for n, product_id in enumerate(ids):
        record(create(product_id, sku=f"RB-{product_id[:8].upper()}", amount=100 + n))
        if n % 3 == 0:
            record(rename(product_id, f"Renamed {n}"))
            record(reprice(product_id, 500 + n))
    drain_all()
    projector.catch_up_all(config(), list(PROJECTIONS))
    return ids


def live_count() -> int:
    with db.reading(database_url()) as connection:
        return int(connection.execute(select(func.count()).select_from(products)).scalar_one())


def shadow_left(url: str) -> bool:
    if url.startswith("sqlite"):
        return Path(f"{make_url(url).database}.shadow-products").exists()
    with db.reading(url) as connection:
        found = connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = 'shadow_products'"))
        return found.first() is not None


def test_a_rebuild_under_writes_serves_every_row_throughout_and_switches_at_the_head(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rebuild, "BATCH", 40)
    seeded = seed(120)
    stop, problems, reads = threading.Event(), [], [0]

    def reader() -> None:
        floor = len(seeded)
        while not stop.is_set():
            try:
                found = live_count()
            except Exception as error:
                problems.append(repr(error))
                continue
            if found < floor:
                problems.append(f"read {found} products, fewer than the {floor} before")
            floor, reads[0] = max(floor, found), reads[0] + 1

    def writer() -> None:
        while not stop.is_set():
            record(create(str(uuid.uuid4()), sku=f"RW-{uuid.uuid4().hex[:8].upper()}"))
            drain_all()
            projector.catch_up_all(config(), list(PROJECTIONS))

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    progress: list[tuple[int, int]] = []

    def seen(position: int, target: int) -> None:
        progress.append((position, target))
        with db.reading(database) as connection:
            assert connection.execute(select(projection_rebuilds.c.position)).scalar_one() == position
        assert live_count() >= len(seeded)  # the live version serves while the new one is built

    try:
        position = rebuild.rebuild(config(), "products", seen)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert problems == [] and reads[0] > 0
    assert len(progress) > 3 and progress == sorted(progress)
    assert progress[-1][0] == progress[-1][1]
    assert position >= progress[-1][1]
    projector.catch_up_all(config(), list(PROJECTIONS))
    report = verify(database)
    assert report.ok, report.violations
    assert rebuild.rebuilds(database) == {} and not shadow_left(database)


def test_a_dry_run_finds_nothing_on_a_sound_table_and_every_tampered_row(database: str) -> None:
    ids = seed(30)
    assert rebuild.differences(config(), "products", lambda *_: None) == []
    assert rebuild.differences(config(), "product_versions", lambda *_: None) == []
    with db.writing(database) as connection:
        connection.execute(update(products).where(products.c.id == ids[0]).values(name="Tampered"))
        connection.execute(delete(products).where(products.c.id == ids[1]))
        connection.execute(delete(product_versions).where(product_versions.c.id == ids[2]))
    found = rebuild.differences(config(), "products", lambda *_: None)
    assert any(ids[0] in line and "Tampered" in line for line in found), found
    assert any(ids[1] in line and "missing from the live table" in line for line in found), found
    assert found[-1] == "products: 1 missing from the live table, 0 in the live table only, 1 different"
    assert rebuild.differences(config(), "product_versions", lambda *_: None)[-1].startswith(
        "product_versions: 1 missing"
    )
    assert not shadow_left(database)


def test_the_cli_dry_run_exits_0_or_1_and_a_rebuild_repairs_the_table(database: str) -> None:
    ids = seed(10)
    runner = CliRunner()
    clean = runner.invoke(app, ["projections", "rebuild", "products", "--dry-run"])
    assert clean.exit_code == 0 and "no differences" in clean.output, clean.output
    with db.writing(database) as connection:
        connection.execute(update(products).where(products.c.id == ids[0]).values(price_amount=1))
    dirty = runner.invoke(app, ["projections", "rebuild", "products", "--dry-run"])
    assert dirty.exit_code == 1 and "1 different" in dirty.output, dirty.output
    rebuilt = runner.invoke(app, ["projections", "rebuild", "products"])
    assert rebuilt.exit_code == 0 and "rebuilt" in rebuilt.output, rebuilt.output
    rates = [int(r.replace(",", "")) for r in re.findall(r"([\d,]+) events/s", rebuilt.output)]
    assert rates and rates[-1] > 0, rebuilt.output  # a rebuild of one batch shows its real rate too
    assert runner.invoke(app, ["projections", "rebuild", "products", "--dry-run"]).exit_code == 0


def test_a_rebuild_that_cannot_apply_an_event_leaves_the_live_version_serving(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(20)
    before = live_count()

    def failing(*_: object) -> None:
        raise ValueError("cannot apply this")

    monkeypatch.setitem(PROJECTIONS, "products", Projection("products", (products,), failing, failing))
    with pytest.raises(rebuild.RebuildFailed):
        rebuild.rebuild(config(), "products", lambda *_: None)
    assert live_count() == before
    assert rebuild.rebuilds(database) == {} and not shadow_left(database)
