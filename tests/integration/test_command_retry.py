"""`eventshop commands retry`: a FAILED command handled again, once, recorded as a retry."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select
from typer.testing import CliRunner, Result

from api.read import queries
from eventshop.cli import app
from eventshop.operator_cli import ring
from store import db, eventstore, mailbox
from store.schema import command_retries
from tests.config import config, database_url
from tests.conftest import free_port
from tests.e2e.client import wait_for
from tests.faults.cluster import Cluster
from tests.integration.helpers import NOW, create, drain_all, name_in, outcome, partition, record, rename
from workers import command_handler, doorbells
from workers.verify import verify

INJECTED = "handler.before_commit=dberror"


@pytest.fixture
def operator(database: str, broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment `eventshop` runs in: the test's database and broker."""
    monkeypatch.setenv("BROKER_URL", broker)
    monkeypatch.setenv("EVENTSHOP_DATA_DIR", str(tmp_path / "data"))
    yield broker


def eventshop(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def fail_with_a_database_error(command_id: str, product_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drain the product's partition with every commit refused by the database until it gives up."""
    monkeypatch.setenv("EVENTSHOP_FAILPOINTS", INJECTED)
    monkeypatch.setenv("EVENTSHOP_MAX_ATTEMPTS", "2")
    for _ in range(5):
        with pytest.raises(command_handler.TransientError):
            command_handler.drain(config(), partition(product_id))
        if outcome(command_id)[0] == "FAILED":
            break
    monkeypatch.delenv("EVENTSHOP_FAILPOINTS")
    monkeypatch.delenv("EVENTSHOP_MAX_ATTEMPTS")
    assert outcome(command_id) == ("FAILED", "could not be handled after 2 attempts")


def names(product_id: str) -> list[str]:
    with db.reading(database_url()) as connection:
        return [name_in(e.data) or "" for e in eventstore.read_stream(connection, product_id)]


def events_of(command_id: str) -> list[eventstore.RecordedEvent]:
    with db.reading(database_url()) as connection:
        return eventstore.of_command(connection, command_id)


def retries_of(command_id: str) -> list[tuple[str, str | None, int]]:
    with db.reading(database_url()) as connection:
        rows = connection.execute(
            select(command_retries).where(command_retries.c.command_id == command_id)
        ).all()
    return [(row.retried_by, row.previous_error, row.previous_attempts) for row in rows]


def test_a_command_failed_on_a_database_error_is_retried_and_succeeds_exactly_once(
    operator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    product_id = str(uuid.uuid4())
    record(create(product_id))
    drain_all()
    failed = record(rename(product_id, "A"))
    fail_with_a_database_error(failed, product_id, monkeypatch)
    later = record(rename(product_id, "B"))
    drain_all()
    assert outcome(later) == ("SUCCEEDED", None)

    result = eventshop("commands", "retry", failed, "--by", "alice")
    assert result.exit_code == 0, result.output
    assert "PENDING again" in result.output and "could not be handled after 2 attempts" in result.output
    assert redis.Redis.from_url(operator).llen("commands") == 1, "no doorbell was sent for the partition"
    assert outcome(failed) == ("PENDING", None)
    assert eventshop("commands", "retry", failed).exit_code == 1, "a pending command was retried"

    assert drain_all() == 1
    assert outcome(failed) == ("SUCCEEDED", None)
    assert len(events_of(failed)) == 1 and len(events_of(later)) == 1
    assert names(product_id) == ["Mug", "B", "A"], "the retry is a new attempt, after the later command"
    assert retries_of(failed) == [("alice", "could not be handled after 2 attempts", 2)]
    shown = queries.command(database_url(), failed)
    assert shown is not None and shown["status"] == "SUCCEEDED" and shown["error"] is None
    assert shown["token"] == str(events_of(failed)[0].position)
    again = eventshop("commands", "retry", failed)
    assert again.exit_code == 1 and "SUCCEEDED" in again.output
    assert drain_all() == 0 and len(events_of(failed)) == 1
    report = verify(database_url())
    assert report.ok, report.violations


def test_a_retried_command_goes_before_the_aggregates_commands_still_pending(
    operator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    product_id = str(uuid.uuid4())
    record(create(product_id))
    drain_all()
    failed = record(rename(product_id, "A"))
    fail_with_a_database_error(failed, product_id, monkeypatch)
    later = record(rename(product_id, "B"))
    assert eventshop("commands", "retry", failed).exit_code == 0
    assert drain_all() == 2
    assert [outcome(failed)[0], outcome(later)[0]] == ["SUCCEEDED", "SUCCEEDED"]
    assert names(product_id) == ["Mug", "A", "B"], "the retry lost its place in the recorded order"
    assert verify(database_url()).ok


def test_only_a_failed_command_is_retried(operator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    product_id = str(uuid.uuid4())
    succeeded = record(create(product_id))
    rejected = record(rename(str(uuid.uuid4()), "nobody's"))
    drain_all()
    pending = record(rename(product_id, "later"))
    for command_id, status in [(succeeded, "SUCCEEDED"), (rejected, "REJECTED"), (pending, "PENDING")]:
        result = eventshop("commands", "retry", command_id)
        assert result.exit_code == 1, result.output
        assert f"is {status}" in result.output and "only a FAILED command can be retried" in result.output
        assert outcome(command_id)[0] == status
    assert "a rejection is the domain's answer" in eventshop("commands", "retry", rejected).output
    unknown = eventshop("commands", "retry", str(uuid.uuid4()))
    assert unknown.exit_code == 2 and "no command" in unknown.output
    assert all(not retries_of(command_id) for command_id in (succeeded, rejected, pending))


def test_two_retries_at_once_put_a_command_back_once(operator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    product_id = str(uuid.uuid4())
    record(create(product_id))
    drain_all()
    failed = record(rename(product_id, "A"))
    fail_with_a_database_error(failed, product_id, monkeypatch)
    second: list[str] = []

    def retry_too() -> None:
        try:
            with db.writing(database_url()) as connection:
                mailbox.retry(connection, failed, "second", NOW)
            second.append("retried")
        except mailbox.NotRetryable as error:
            second.append(str(error))

    with db.writing(database_url()) as connection:
        mailbox.retry(connection, failed, "first", NOW)
        racer = threading.Thread(target=retry_too)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the second retry did not wait for the first to commit"
    racer.join(30)
    assert len(second) == 1 and "retried" not in second, second
    assert [by for by, _, _ in retries_of(failed)] == ["first"]
    assert drain_all() == 1 and len(events_of(failed)) == 1


def test_with_the_broker_down_the_retry_waits_for_beat(
    operator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    product_id = str(uuid.uuid4())
    record(create(product_id))
    drain_all()
    failed = record(rename(product_id, "A"))
    fail_with_a_database_error(failed, product_id, monkeypatch)
    monkeypatch.setenv("BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    result = eventshop("commands", "retry", failed)
    assert result.exit_code == 0 and "beat will ring" in result.output
    assert outcome(failed) == ("PENDING", None)
    assert partition(product_id) in doorbells.stale_partitions(config())


def test_commands_retry_rings_a_real_worker(operator: str, database: str, tmp_path: Path) -> None:
    """The done-when, with real processes: a worker fails a command on an injected database error,
    handles a later one, and `eventshop commands retry` (with no beat to ring again) gets the
    failed one handled once."""
    once = tmp_path / "once"
    once.mkdir()
    (once / "handler.before_commit").touch()  # the failpoint fires only once its marker is gone
    cluster = Cluster(
        database,
        operator,
        tmp_path,
        EVENTSHOP_FAILPOINTS=INJECTED,
        EVENTSHOP_FAILPOINTS_ONCE=str(once),
        EVENTSHOP_MAX_ATTEMPTS="1",
    )
    cluster.worker("worker", concurrency=1)
    try:
        product_id = str(uuid.uuid4())
        created = submit(create(product_id), "SUCCEEDED")
        (once / "handler.before_commit").unlink()
        failed = submit(rename(product_id, "A"), "FAILED")
        later = submit(rename(product_id, "B"), "SUCCEEDED")
        result = cluster.eventshop("commands", "retry", failed)
        assert result.returncode == 0, result.stdout + result.stderr
        wait_for(lambda: outcome(failed)[0] == "SUCCEEDED", 60, "the retried command to succeed")
    finally:
        cluster.stop_all()
    assert [len(events_of(c)) for c in (created, failed, later)] == [1, 1, 1]
    assert names(product_id) == ["Mug", "B", "A"]
    assert "retried by" in result.stdout
    assert verify(database_url()).ok


def submit(command: Any, status: str) -> str:
    """Record a command and ring its partition as the API would; wait until it ends as `status`."""
    command_id = record(command)
    assert ring(config(), partition(command.product_id))
    wait_for(lambda: outcome(command_id)[0] != "PENDING", 60, f"command {command_id} to be handled")
    assert outcome(command_id)[0] == status
    return command_id
