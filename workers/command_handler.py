"""Handling an aggregate's mailbox: decide, append and complete commands in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import DBAPIError

from domain.decider import Decider, Rejected
from store import db, eventstore, mailbox, registry, settings, snapshots
from store.codec import from_json
from store.eventstore import NewEvent
from store.mailbox import FAILED, REJECTED, SUCCEEDED, Outcome
from workers.failpoints import hit
from workers.projections import INLINE_PROJECTIONS

log = logging.getLogger(__name__)


class TransientError(Exception):
    """The database failed; the try was counted and the mailbox should be rung again later."""


def now() -> datetime:
    return datetime.now(UTC)


def drain(aggregate_id: str, on_append: Callable[[], None] = lambda: None) -> int:
    """Handle the aggregate's pending commands in recorded order, batch by batch; returns how many."""
    config = settings.load()
    total = 0
    while True:
        try:
            handled, appended = handle_batch(aggregate_id, config.command_batch)
        except DBAPIError as error:
            _count_attempt(aggregate_id, config)
            raise TransientError(type(error).__name__) from error
        total += handled
        if appended:
            on_append()
        if handled < config.command_batch:
            return total


def handle_batch(aggregate_id: str, limit: int) -> tuple[int, int]:
    """Handle up to `limit` pending commands under the aggregate's lock; returns (handled, appended)."""
    with db.writing() as connection:
        db.lock_key(connection, f"aggregate:{aggregate_id}")
        rows = mailbox.pending(connection, aggregate_id, limit)
        if not rows:
            return 0, 0
        decider = registry.DECIDERS[rows[0].aggregate_type]
        state, version, since = snapshots.load(connection, decider, aggregate_id)
        outcomes: list[Outcome] = []
        new_events: list[NewEvent] = []
        for row in rows:
            outcome, events, state = _handle(connection, decider, row, state)
            outcomes.append(outcome)
            new_events += [registry.encode_event(event, _metadata(row)) for event in events]
        at = now()
        eventstore.append(connection, aggregate_id, decider.stream_type, version, new_events, at)
        snapshots.save_if_due(connection, decider, aggregate_id, state, version + len(new_events), since)
        mailbox.complete(connection, outcomes, at)
        hit("handler.before_commit")
    hit("handler.after_commit")
    return len(rows), len(new_events)


def _handle(
    connection: Connection, decider: Decider[Any], row: Row[Any], state: Any
) -> tuple[Outcome, list[Any], Any]:
    try:
        command_type: Any = registry.COMMANDS[row.type][0]
        command = from_json(command_type, {**row.payload, "at": row.submitted_at.isoformat()})
        events = list(decider.decide(command, state))
        inline = [(p, e) for e in events for p in INLINE_PROJECTIONS if isinstance(e, p.handles)]
        if inline:
            with connection.begin_nested():
                for projection, event in inline:
                    projection.apply(connection, event)
    except Rejected as rejection:
        return Outcome(row.seq, REJECTED, str(rejection)), [], state
    except DBAPIError:
        raise
    except Exception:
        log.exception("command %s could not be handled", row.id)
        return Outcome(row.seq, FAILED, "internal error while handling the command"), [], state
    return Outcome(row.seq, SUCCEEDED), events, decider.fold(events, state)


def _metadata(row: Row[Any]) -> dict[str, Any]:
    return {
        "command_id": row.id,
        "correlation_id": row.correlation_id,
        "causation_id": row.id,
        "actor": row.actor,
    }


def _count_attempt(aggregate_id: str, config: settings.Settings) -> None:
    try:
        with db.writing() as connection:
            mailbox.count_attempt(connection, aggregate_id, config.command_batch, config.max_attempts, now())
    except DBAPIError:
        log.warning("could not count a failed attempt for %s", aggregate_id)
