"""The append-only event store: streams with optimistic concurrency and a global order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from store import registry
from store.records import NewEvent as NewEvent
from store.records import RecordedEvent as RecordedEvent
from store.schema import event_head, events


class ConcurrencyError(Exception):
    """The stream was not at the expected version."""


def recorded(row: Row[Any], with_metadata: bool = True) -> RecordedEvent:
    """A stored event as every reader sees it: upcast to its type's newest shape (the row itself
    is never rewritten). Without `with_metadata` the row has no metadata column, and it reads
    as empty."""
    schema_version, data = registry.upcast(row.type, row.schema_version, row.data)
    return RecordedEvent(
        row.position,
        row.stream_id,
        row.stream_type,
        row.version,
        row.type,
        schema_version,
        data,
        row.metadata if with_metadata else {},
        row.recorded_at,
    )


@dataclass(frozen=True)
class StreamAppend:
    """New events for one stream, expected to follow `expected_version`."""

    stream_id: str
    stream_type: str
    expected_version: int
    events: Sequence[NewEvent]


def stream_version(connection: Connection, stream_id: str) -> int:
    return stream_versions(connection, [stream_id]).get(stream_id, 0)


def stream_versions(connection: Connection, stream_ids: Sequence[str]) -> dict[str, int]:
    """The current version of each stream that has events."""
    rows = connection.execute(
        select(events.c.stream_id, func.max(events.c.version))
        .where(events.c.stream_id.in_(stream_ids))
        .group_by(events.c.stream_id)
    )
    return {stream_id: version for stream_id, version in rows}


def append(
    connection: Connection,
    stream_id: str,
    stream_type: str,
    expected_version: int,
    new_events: Sequence[NewEvent],
    recorded_at: datetime,
) -> list[RecordedEvent]:
    """Append `new_events` to one stream after `expected_version`, or raise `ConcurrencyError`."""
    return append_streams(
        connection, [StreamAppend(stream_id, stream_type, expected_version, new_events)], recorded_at
    )


def append_streams(
    connection: Connection, appends: Sequence[StreamAppend], recorded_at: datetime
) -> list[RecordedEvent]:
    """Append to several distinct streams at once, or raise `ConcurrencyError` for all of them.

    One version check, one `event_head` update and one insert, whatever the number of streams.
    Positions come from the `event_head` row, whose lock is held until commit, so they are
    assigned in commit order and a reader never finds a committed event below one it has seen.
    """
    appends = [a for a in appends if a.events]
    if not appends:
        return []
    versions = stream_versions(connection, [a.stream_id for a in appends])
    for a in appends:
        if versions.get(a.stream_id, 0) != a.expected_version:
            raise ConcurrencyError(f"stream {a.stream_id} is not at version {a.expected_version}")
    total = sum(len(a.events) for a in appends)
    last = connection.execute(
        update(event_head)
        .where(event_head.c.id == 1)
        .values(position=event_head.c.position + total)
        .returning(event_head.c.position)
    ).scalar_one()
    position = last - total
    rows = []
    for a in appends:
        for offset, event in enumerate(a.events):
            position += 1
            rows.append(
                {
                    "position": position,
                    "stream_id": a.stream_id,
                    "stream_type": a.stream_type,
                    "version": a.expected_version + 1 + offset,
                    "type": event.type,
                    "schema_version": event.schema_version,
                    "data": event.data,
                    "metadata": event.metadata,
                    "command_id": event.metadata.get("command_id"),
                    "recorded_at": recorded_at,
                }
            )
    try:
        connection.execute(insert(events), rows)
    except IntegrityError as error:
        raise ConcurrencyError("a stream moved past its expected version") from error
    return [RecordedEvent(**{k: v for k, v in row.items() if k != "command_id"}) for row in rows]


def read_stream(connection: Connection, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
    """The stream's events after `after_version`, oldest first."""
    rows = connection.execute(
        select(events)
        .where(events.c.stream_id == stream_id, events.c.version > after_version)
        .order_by(events.c.version)
    )
    return [recorded(row) for row in rows]


def of_command(connection: Connection, command_id: str) -> list[RecordedEvent]:
    """The events a command appended (one batch at most, I2), in order."""
    query = select(events).where(events.c.command_id == command_id).order_by(events.c.position)
    return [recorded(row) for row in connection.execute(query)]


def read_all(
    connection: Connection, after_position: int, limit: int, with_metadata: bool = True
) -> list[RecordedEvent]:
    """Up to `limit` events after `after_position`, in global order (metadata left empty if not asked)."""
    columns = [c for c in events.c if with_metadata or c.name != "metadata"]
    query = (
        select(*columns).where(events.c.position > after_position).order_by(events.c.position).limit(limit)
    )
    return [recorded(row, with_metadata) for row in connection.execute(query).all()]


def head(connection: Connection) -> int:
    """The last assigned global position."""
    position: int = connection.execute(select(event_head.c.position).where(event_head.c.id == 1)).scalar_one()
    return position
