"""What a projection is: functions that turn events into rows of read tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table

from store.eventstore import RecordedEvent

Batch = list[tuple[RecordedEvent, Any]]


@dataclass(frozen=True)
class Projection:
    """A read model kept by the projector, one checkpoint per `name` (I5).

    `apply` takes one event; `apply_batch`, when given, takes many at once with the same effect
    and fewer statements (the projector's fast path; `apply` finds a failing event and replays).
    """

    name: str
    tables: tuple[Table, ...]
    apply: Callable[[Connection, RecordedEvent, Any], None]
    apply_batch: Callable[[Connection, Batch], None] | None = None

    def apply_all(self, connection: Connection, batch: Batch) -> None:
        if self.apply_batch is not None:
            self.apply_batch(connection, batch)
            return
        for recorded, event in batch:
            self.apply(connection, recorded, event)


@dataclass(frozen=True)
class InlineProjection:
    """A read model written in the append transaction itself; it may reject a command.

    `handles` names the event types it reads: other events skip it (and its savepoint).
    """

    name: str
    tables: tuple[Table, ...]
    apply: Callable[[Connection, Any], None]
    handles: tuple[type, ...]
