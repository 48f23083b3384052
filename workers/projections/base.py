"""What a projection is: functions that turn events into rows of read tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table

from store.eventstore import RecordedEvent

Batch = list[tuple[RecordedEvent, Any]]
Partitions = set[int]  # mailbox partitions a consumer recorded commands in: to ring after its commit


@dataclass(frozen=True)
class Projection:
    """A read model kept by the projector, one checkpoint per `name` (I5).

    `apply` takes one event; `apply_batch`, when given, takes many at once with the same effect
    and fewer statements (the projector's fast path; `apply` finds a failing event and replays).
    A process manager is run the same way; its `apply_batch` returns the partitions of the
    commands it recorded, which the projector rings once the batch is committed.
    """

    name: str
    tables: tuple[Table, ...]
    apply: Callable[[Connection, RecordedEvent, Any], None]
    apply_batch: Callable[[Connection, Batch], Partitions | None] | None = None
    with_metadata: bool = False  # whether it reads the events' metadata (correlation ids, actors)

    def apply_all(self, connection: Connection, batch: Batch) -> Partitions:
        if self.apply_batch is not None:
            return self.apply_batch(connection, batch) or set()
        for recorded, event in batch:
            self.apply(connection, recorded, event)
        return set()


@dataclass(frozen=True)
class InlineProjection:
    """A read model written in the append transaction itself; it may reject a command.

    `handles` names the event types it reads: other events skip it. `apply` either writes what the
    event means or raises `Rejected` having written nothing, so one event needs no savepoint; the
    command's events are applied in one only when there are several.
    """

    name: str
    tables: tuple[Table, ...]
    apply: Callable[[Connection, Any], None]
    handles: tuple[type, ...]
