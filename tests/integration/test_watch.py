"""Waiting for commands and projections: woken by notifications on Redis, with a check of the
database about once a second as the net under lost messages; many waiters cost no queries."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, update

from api.live import watch
from api.live.watch import ALL_PROJECTIONS, Watcher
from store import broker, db, mailbox, notify
from store.schema import projections
from tests.config import config
from tests.e2e.client import wait_for
from tests.integration.helpers import create, partition, record
from workers import command_handler, projector

AMQP = "amqp://guest@127.0.0.1//"  # a broker without pub/sub: the watcher relies on its checks


@contextmanager
def counting_queries(url: str) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.engine(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def started(database: str, broker_url: str) -> Watcher:
    """A started watcher, listening for notifications when the broker is Redis."""
    watcher = Watcher(database, broker_url)
    await watcher.start()
    client = broker.redis_client(broker_url)
    if client is not None:
        channels = [notify.channel(broker_url, kind) for kind in (notify.HANDLED, notify.PROJECTED)]

        def listening() -> bool:
            return all(count for _, count in client.pubsub_numsub(*channels))

        await asyncio.to_thread(wait_for, listening, 30, "the watcher to subscribe")
    return watcher


@pytest.fixture
def no_periodic_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a notification, or the read a waiter starts with, can answer within the test."""
    monkeypatch.setattr(watch, "CHECK_EVERY", 3600.0)


@pytest.mark.usefixtures("no_periodic_check")
def test_a_notification_wakes_the_waiter_before_the_database_says_so(database: str, broker: str) -> None:
    command_id = record(create(str(uuid.uuid4())))

    async def scenario() -> watch.Handled | None:
        watcher = await started(database, broker)
        waiting = asyncio.create_task(watcher.handled(command_id, 30))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        outcome = mailbox.Outcome(1, mailbox.REJECTED, "no", command_id, None)
        await asyncio.to_thread(notify.handled, broker, [outcome])
        found = await asyncio.wait_for(waiting, 30)
        await watcher.stop()
        return found

    assert asyncio.run(scenario()) == watch.Handled(mailbox.REJECTED, "no", None)


def test_the_check_finds_what_no_notification_said(database: str) -> None:
    product_id = str(uuid.uuid4())
    command_id = record(create(product_id))

    async def scenario() -> watch.Handled | None:
        watcher = await started(database, AMQP)
        waiting = asyncio.create_task(watcher.handled(command_id, 30))
        await asyncio.sleep(0.1)
        await asyncio.to_thread(command_handler.drain, config(), partition(product_id))
        found = await asyncio.wait_for(waiting, 30)
        await watcher.stop()
        return found

    found = asyncio.run(scenario())
    assert found is not None and found.status == mailbox.SUCCEEDED and found.position is not None


@pytest.mark.usefixtures("no_periodic_check")
def test_a_command_already_handled_answers_at_once_and_an_unhandled_one_times_out(database: str) -> None:
    """No notifications (AMQP) either: only the read a waiter starts with can find the handled command."""
    product_id = str(uuid.uuid4())
    done = record(create(product_id))
    command_handler.drain(config(), partition(product_id))
    waiting = record(create(str(uuid.uuid4())))

    async def scenario() -> tuple[watch.Handled | None, watch.Handled | None]:
        watcher = await started(database, AMQP)
        found = await watcher.handled(done, 30), await watcher.handled(waiting, 0.3)
        await watcher.stop()
        return found

    first, second = asyncio.run(scenario())
    assert first is not None and first.status == mailbox.SUCCEEDED
    assert second is None


@pytest.mark.usefixtures("no_periodic_check")
def test_projection_waiters_wake_on_notifications_and_every_projection_counts(
    database: str, broker: str
) -> None:
    product_id = str(uuid.uuid4())
    record(create(product_id))
    command_handler.drain(config(), partition(product_id))
    projector.catch_up_all(config(), ["products"])

    async def scenario() -> tuple[bool, bool, bool]:
        watcher = await started(database, broker)
        products = await watcher.reached(1, "products", 0.01)
        every = asyncio.create_task(watcher.reached(1, ALL_PROJECTIONS, 30))
        await asyncio.sleep(0.2)
        assert not every.done()
        await asyncio.to_thread(projector.catch_up_all, config(), projector.names(), notified(broker))
        woken = await asyncio.wait_for(every, 30)
        later = await watcher.reached(10**9, "products", 0.2)
        await watcher.stop()
        return products, woken, later

    assert asyncio.run(scenario()) == (True, True, False)


def test_thousands_of_waiters_cost_no_queries_while_they_wait(database: str, broker: str) -> None:
    with db.writing(database) as connection:
        projector._insert_checkpoints(connection, projector.names())

    async def scenario() -> tuple[int, list[bool]]:
        watcher = await started(database, broker)
        waiters = [asyncio.create_task(watcher.reached(7, ALL_PROJECTIONS, 60)) for _ in range(2000)]
        await asyncio.sleep(0.5)
        with counting_queries(database) as statements:
            await asyncio.sleep(2 * watch.CHECK_EVERY + 0.2)
        assert not any(w.done() for w in waiters)
        with db.writing(database) as connection:
            connection.execute(update(projections).values(position=7, updated_at=datetime.now(UTC)))
        for name in projector.names():
            await asyncio.to_thread(notify.projected, broker, name, 7)
        woken = await asyncio.wait_for(asyncio.gather(*waiters), 30)
        await watcher.stop()
        return len(statements), woken

    queries, woken = asyncio.run(scenario())
    assert queries <= 6  # the periodic checks: one read of the checkpoints a second (+ BEGIN on SQLite)
    assert woken == [True] * 2000


def notified(broker: str) -> projector.Progress:
    def progress(name: str, position: int) -> None:
        notify.projected(broker, name, position)

    return progress


def test_systems_on_two_databases_of_one_redis_server_never_hear_each_others_notifications(
    make_broker: Callable[[], str],
) -> None:
    ours, theirs = make_broker(), make_broker()
    assert notify.channel(ours, notify.PROJECTED) != notify.channel(theirs, notify.PROJECTED)
    client = broker.redis_client(ours)
    assert client is not None
    with client.pubsub() as pubsub:
        pubsub.subscribe(notify.channel(ours, notify.PROJECTED), notify.channel(ours, notify.HANDLED))
        while pubsub.get_message(timeout=1) is not None:
            pass  # the subscription confirmations
        notify.projected(theirs, "products", 6000)
        assert pubsub.get_message(timeout=0.5) is None
        notify.projected(ours, "products", 7)
        message = pubsub.get_message(timeout=2)
        assert message is not None and notify.decode(message["data"]) == ["products", 7]
