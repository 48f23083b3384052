"""`eventshop commands list|show` and `eventshop status`: what an operator sees of the system."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from eventshop.cli import app
from store import db, mailbox
from store.schema import commands
from tests.config import database_url
from tests.integration.helpers import NOW, create, drain_all, record, rename, reprice
from workers import monitor, projector


@pytest.fixture(autouse=True)
def environment(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSHOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")


def eventshop(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def listed(*args: str) -> list[dict[str, object]]:
    result = eventshop("commands", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_list_is_newest_first_filtered_by_status_and_aggregate_and_limited() -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    ids = [record(create(first, sku="L-1")), record(rename(str(uuid.uuid4()), "x"))]
    drain_all()
    ids += [record(reprice(first, 250)), record(create(second, sku="L-2"))]
    found = listed()
    assert [c["id"] for c in found] == ids[::-1]
    assert [c["status"] for c in found] == ["PENDING", "PENDING", "REJECTED", "SUCCEEDED"]
    assert found[2]["error"] == "product not found" and found[3]["attempts"] == 0
    assert found[3]["actor"] == {"subject": "anonymous", "credential": "none", "roles": []}
    assert [c["id"] for c in listed("--status", "pending")] == ids[:1:-1]
    assert [c["id"] for c in listed("--aggregate", first)] == [ids[2], ids[0]]
    assert [c["id"] for c in listed("--aggregate", first, "--status", "SUCCEEDED")] == [ids[0]]
    assert [c["id"] for c in listed("--limit", "1")] == [ids[3]]
    table = eventshop("commands", "list", "--status", "REJECTED")
    assert table.exit_code == 0 and ids[1] in table.stdout and "product not found" in table.stdout
    assert ids[0] not in table.stdout
    assert eventshop("commands", "list", "--status", "LOST").exit_code == 2


def test_show_prints_every_column_the_events_and_the_retries() -> None:
    product_id = str(uuid.uuid4())
    command_id = record(create(product_id, sku="SHOW-1"))
    drain_all()
    result = eventshop("commands", "show", command_id.upper())
    assert result.exit_code == 0, result.output
    for column in ("seq", "type", "aggregate_id", "partition", "payload", "status", "attempts", "actor"):
        assert column in result.stdout
    for shown in ("CreateProduct", product_id, "SHOW-1", "SUCCEEDED", "ProductCreated", "anonymous"):
        assert shown in result.stdout
    assert "retries" not in result.stdout
    failed = record(rename(product_id, "again"))
    with db.writing(database_url()) as connection:
        connection.execute(
            update(commands)
            .where(commands.c.id == failed)
            .values(status="FAILED", error="it broke", attempts=5, completed_at=NOW)
        )
        mailbox.retry(connection, failed, "bob", NOW)
    result = eventshop("commands", "show", failed)
    assert result.exit_code == 0, result.output
    for shown in ("no events", "retries", "bob", "it broke", "PENDING"):
        assert shown in result.stdout
    [again] = listed("--status", "PENDING")
    assert (again["id"], again["attempts"], again["error"], again["completed_at"]) == (failed, 0, None, None)
    unknown = eventshop("commands", "show", str(uuid.uuid4()))
    assert unknown.exit_code == 2 and "no command" in unknown.output


def test_status_once_shows_projections_mailbox_depth_and_throughput() -> None:
    products = [str(uuid.uuid4()) for _ in range(3)]
    for n, product_id in enumerate(products):
        record(create(product_id, sku=f"S-{n}"), partitions=1)
    result = eventshop("status", "--once", "--interval", "0.1")
    assert result.exit_code == 0, result.output
    for shown in [*projector.names(), "mailbox", "total", "throughput"]:
        assert shown in result.stdout
    assert re.search(r"│ +0 +│ +3 +│", result.stdout) and re.search(r"│ +total +│ +3 +│", result.stdout)


def test_throughput_counts_the_commands_handled_and_events_appended_between_samples() -> None:
    product_id = str(uuid.uuid4())
    record(create(product_id))
    drain_all()
    before = monitor.sample(database_url())
    ids = [record(rename(product_id, f"name {n}")) for n in range(4)]
    ids.append(record(rename(str(uuid.uuid4()), "unknown")))
    drain_all()
    record(rename(product_id, "still waiting"))
    found, after = monitor.snapshot(database_url(), before)
    assert round(found.commands_per_second * found.interval) == 5
    assert round(found.events_per_second * found.interval) == 4
    assert found.pending == 1 and after.head == before.head + 4
    assert [p.name for p in found.projections] == projector.names()
    again, _ = monitor.snapshot(database_url(), after)
    assert again.commands_per_second == again.events_per_second == 0


def test_the_process_manager_resumes_like_a_projection_but_is_never_rebuilt() -> None:
    resumed = eventshop("projections", "resume", "order_process")
    assert resumed.exit_code == 0 and "projection order_process resumed" in resumed.output, resumed.output
    refused = eventshop("projections", "rebuild", "order_process")
    assert refused.exit_code == 2 and "no projection order_process" in refused.output, refused.output
