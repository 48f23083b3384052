"""The event store on SQLite or PostgreSQL: optimistic appends, I1 and I3 under concurrent processes."""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from store import db, eventstore
from store.eventstore import ConcurrencyError, NewEvent
from store.schema import events
from tests.config import database_url

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def new(n: int = 1) -> list[NewEvent]:
    return [NewEvent("Happened", 1, {"n": i}, {"command_id": "c"}) for i in range(n)]


def test_append_assigns_versions_and_positions(database: str) -> None:
    with db.writing(database_url()) as connection:
        first = eventstore.append(connection, "s1", "Thing", 0, new(2), NOW)
        second = eventstore.append(connection, "s2", "Thing", 0, new(1), NOW)
    assert [(e.version, e.position) for e in first] == [(1, 1), (2, 2)]
    assert [(e.version, e.position) for e in second] == [(1, 3)]
    with db.reading(database_url()) as connection:
        stream = eventstore.read_stream(connection, "s1")
        assert [e.data for e in stream] == [{"n": 0}, {"n": 1}]
        assert stream[0].recorded_at == NOW
        assert eventstore.head(connection) == 3
        assert [e.position for e in eventstore.read_all(connection, 1, 10)] == [2, 3]


def test_append_at_a_stale_version_conflicts_and_writes_nothing(database: str) -> None:
    with db.writing(database_url()) as connection:
        eventstore.append(connection, "s1", "Thing", 0, new(1), NOW)
    with pytest.raises(ConcurrencyError), db.writing(database_url()) as connection:
        eventstore.append(connection, "s1", "Thing", 0, new(1), NOW)
    with db.reading(database_url()) as connection:
        assert eventstore.stream_version(connection, "s1") == 1
        assert eventstore.head(connection) == 1


def _appender(url: str, worker: int, streams: int, batches: int) -> None:
    """Append `batches` batches of 1-3 events to shared streams, retrying on conflicts."""
    done = 0
    while done < batches:
        stream = f"s{(worker + done) % streams}"
        try:
            with db.writing(url) as connection:
                version = eventstore.stream_version(connection, stream)
                eventstore.append(connection, stream, "Thing", version, new(1 + done % 3), NOW)
            done += 1
        except ConcurrencyError:
            continue


def _reader(url: str, expected: int, found: multiprocessing.Queue[list[int]]) -> None:
    """Follow the store like a projector; record every position seen, in the order seen."""
    seen: list[int] = []
    while len(seen) < expected:
        with db.reading(url) as connection:
            batch = eventstore.read_all(connection, seen[-1] if seen else 0, 50)
        seen += [event.position for event in batch]
    found.put(seen)


def test_concurrent_appenders_keep_streams_contiguous_and_positions_in_commit_order(database: str) -> None:
    processes, streams, batches = 4, 3, 40
    expected = sum(1 + done % 3 for done in range(batches)) * processes
    context = multiprocessing.get_context("spawn")
    found: multiprocessing.Queue[list[int]] = context.Queue()
    reader = context.Process(target=_reader, args=(database, expected, found))
    reader.start()
    appenders = [
        context.Process(target=_appender, args=(database, worker, streams, batches))
        for worker in range(processes)
    ]
    for process in appenders:
        process.start()
    for process in appenders:
        process.join(120)
        assert process.exitcode == 0
    seen = found.get(timeout=120)
    reader.join(10)

    # I3: a follower never skipped a position that committed later, so it saw 1..n in order.
    assert seen == list(range(1, expected + 1))
    with db.reading(database_url()) as connection:
        rows = connection.execute(select(events.c.stream_id, events.c.version, events.c.position)).all()
    # I1: every stream's versions are 1..n with no gap and no duplicate.
    versions: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        versions[row.stream_id].append(row.version)
    for stream_versions in versions.values():
        assert sorted(stream_versions) == list(range(1, len(stream_versions) + 1))
    assert sorted(row.position for row in rows) == list(range(1, expected + 1))
