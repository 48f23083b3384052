"""What `eventshop status` shows: projections, mailbox depth and throughput, from the database.

Throughput is the difference between two samples. Events appended come from the head; commands
handled are counted only from the oldest command pending at the earlier sample on (everything
below it was already handled), so a sample reads only the commands recorded since the oldest one
still pending, not the whole table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from store import db, eventstore, mailbox
from workers import projector, relay


@dataclass(frozen=True)
class Sample:
    taken: float  # time.monotonic()
    head: int
    floor: int  # every command below this seq was handled
    handled: int  # commands from `floor` on that were handled


@dataclass(frozen=True)
class Snapshot:
    projections: list[projector.Status]
    depths: dict[int, int]  # pending commands per partition
    commands_per_second: float
    events_per_second: float
    interval: float  # seconds between the two samples
    relays: list[dict[str, Any]]  # each sink's position, published count and last error

    @property
    def pending(self) -> int:
        return sum(self.depths.values())


def sample(url: str) -> Sample:
    with db.reading(url) as connection:
        return _sample(connection)


def _sample(connection: Connection) -> Sample:
    floor = mailbox.pending_floor(connection)
    handled = mailbox.handled_from(connection, floor)
    return Sample(time.monotonic(), eventstore.head(connection), floor, handled)


def snapshot(url: str, previous: Sample) -> tuple[Snapshot, Sample]:
    """The system now, with the throughput since `previous`; and the sample to compare the next with."""
    with db.reading(url) as connection:
        handled = mailbox.handled_from(connection, previous.floor) - previous.handled
        current = _sample(connection)
        depths = mailbox.depths(connection)
    interval = max(current.taken - previous.taken, 1e-6)
    found = Snapshot(
        projections=projector.statuses(url),
        depths=depths,
        commands_per_second=max(handled, 0) / interval,
        events_per_second=(current.head - previous.head) / interval,
        interval=interval,
        relays=relay.positions(url),
    )
    return found, current
