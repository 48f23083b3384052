"""The append-only event store: streams with optimistic concurrency and a global order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from store.schema import event_head, events


class ConcurrencyError(Exception):
    """The stream was not at the expected version."""


@dataclass(frozen=True)
class NewEvent:
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class RecordedEvent:
    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime


def _recorded(row: Row[Any]) -> RecordedEvent:
    return RecordedEvent(
        row.position,
        row.stream_id,
        row.stream_type,
        row.version,
        row.type,
        row.schema_version,
        row.data,
        row._mapping.get("metadata", {}),
        row.recorded_at,
    )


def stream_version(connection: Connection, stream_id: str) -> int:
    found = connection.execute(select(func.max(events.c.version)).where(events.c.stream_id == stream_id))
    return found.scalar() or 0


def append(
    connection: Connection,
    stream_id: str,
    stream_type: str,
    expected_version: int,
    new_events: Sequence[NewEvent],
    recorded_at: datetime,
) -> list[RecordedEvent]:
    """Append `new_events` after `expected_version`, or raise `ConcurrencyError`.

    Positions come from the `event_head` row, whose lock is held until commit, so they are
    assigned in commit order and a reader never finds a committed event below one it has seen.
    """
    if not new_events:
        return []
    if stream_version(connection, stream_id) != expected_version:
        raise ConcurrencyError(f"stream {stream_id} is not at version {expected_version}")
    last = connection.execute(
        update(event_head)
        .where(event_head.c.id == 1)
        .values(position=event_head.c.position + len(new_events))
        .returning(event_head.c.position)
    ).scalar_one()
    first = last - len(new_events) + 1
    rows = [
        {
            "position": first + offset,
            "stream_id": stream_id,
            "stream_type": stream_type,
            "version": expected_version + 1 + offset,
            "type": event.type,
            "schema_version": event.schema_version,
            "data": event.data,
            "metadata": event.metadata,
            "command_id": event.metadata.get("command_id"),
            "recorded_at": recorded_at,
        }
        for offset, event in enumerate(new_events)
    ]
    try:
        connection.execute(insert(events), rows)
    except IntegrityError as error:
        raise ConcurrencyError(f"stream {stream_id} moved past version {expected_version}") from error
    return [RecordedEvent(**{k: v for k, v in row.items() if k != "command_id"}) for row in rows]


def read_stream(connection: Connection, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
    """The stream's events after `after_version`, oldest first."""
    rows = connection.execute(
        select(events)
        .where(events.c.stream_id == stream_id, events.c.version > after_version)
        .order_by(events.c.version)
    )
    return [_recorded(row) for row in rows]


def read_all(
    connection: Connection, after_position: int, limit: int, with_metadata: bool = True
) -> list[RecordedEvent]:
    """Up to `limit` events after `after_position`, in global order (metadata left empty if not asked)."""
    columns = [c for c in events.c if with_metadata or c.name != "metadata"]
    query = (
        select(*columns).where(events.c.position > after_position).order_by(events.c.position).limit(limit)
    )
    return [_recorded(row) for row in connection.execute(query).all()]


def head(connection: Connection) -> int:
    """The last assigned global position."""
    position: int = connection.execute(select(event_head.c.position).where(event_head.c.id == 1)).scalar_one()
    return position
