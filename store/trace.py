"""One correlation's commands and events: what one request caused, through process managers and
deadlines, and whether it has settled (no command pending, no deadline still due)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from store import eventstore
from store.records import RecordedEvent
from store.schema import commands, deadlines, events

MOST = 10_000  # commands, and events, one trace holds


@dataclass(frozen=True)
class Trace:
    commands: list[Any]  # mailbox rows, in the order recorded
    events: list[RecordedEvent]  # in global order, upcast
    due: bool  # a deadline of the correlation is still armed

    @property
    def settled(self) -> bool:
        return bool(self.commands) and not self.due and all(c.status != "PENDING" for c in self.commands)


def load(connection: Connection, correlation_id: str) -> Trace:
    found = connection.execute(
        select(commands)
        .where(commands.c.correlation_id == correlation_id)
        .order_by(commands.c.seq)
        .limit(MOST)
    ).all()
    ids = [row.id for row in found]
    happened = (
        connection.execute(
            select(events).where(events.c.command_id.in_(ids)).order_by(events.c.position).limit(MOST)
        ).all()
        if ids
        else []
    )
    due = connection.execute(select(deadlines.c.order_id).where(deadlines.c.correlation_id == correlation_id))
    return Trace(list(found), [eventstore.recorded(row) for row in happened], due.first() is not None)
