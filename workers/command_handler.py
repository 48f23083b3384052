"""Handling a partition's mailbox: decide, append and complete many aggregates' commands in one
transaction, each command's outcome its own."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import DBAPIError

from domain.decider import AnyDecider, Rejected
from store import db, eventstore, logs, mailbox, metrics, registry, snapshots
from store.actor import Actor
from store.codec import from_json
from store.mailbox import FAILED, REJECTED, SUCCEEDED, Outcome
from store.settings import Settings
from workers.failpoints import hit
from workers.projections import INLINE_PROJECTIONS

log = logs.get(__name__)


class TransientError(Exception):
    """The database failed; the try was counted and the mailbox should be rung again later."""


def now() -> datetime:
    return datetime.now(UTC)


def drain(config: Settings, partition: int, on_batch: Callable[[Batch], None] = lambda batch: None) -> int:
    """Handle the partition's pending commands, batch by batch, calling `on_batch` after each
    commit; returns how many."""
    total = 0
    while True:
        try:
            batch = handle_batch(config.database_url, partition, config.command_batch)
        except DBAPIError as error:
            _count_attempt(partition, config)
            raise TransientError(type(error).__name__) from error
        total += batch.handled
        if batch.handled:
            on_batch(batch)
        if not batch.full:
            return total


@dataclass(frozen=True)
class Batch:
    handled: int
    appended: int
    full: bool  # as many commands as the batch could take: more may be waiting
    outcomes: tuple[Outcome, ...] = ()


def _next_batch(connection: Connection, partition: int, limit: int) -> tuple[Sequence[Row[Any]], int]:
    """The partition's next commands under their aggregates' locks: up to `limit`, each aggregate's
    in recorded order (whatever partition they were recorded in). After a failed try only the
    oldest command goes, so a command that breaks its batch ends alone. Returns the commands and
    the limit that applied."""
    waiting = mailbox.waiting(connection, partition, limit)
    if not waiting:
        return [], limit
    if waiting[0].attempts:
        waiting, limit = waiting[:1], 1
    aggregate_ids = list(dict.fromkeys(row.aggregate_id for row in waiting))
    db.lock_keys(connection, [f"aggregate:{aggregate_id}" for aggregate_id in aggregate_ids])
    return mailbox.pending(connection, aggregate_ids, limit), limit


def handle_batch(url: str, partition: int, limit: int) -> Batch:
    """Handle up to `limit` pending commands of the partition in one transaction, under its lock,
    with one append for every aggregate's events."""
    started = time.perf_counter()
    with db.writing(url) as connection:
        db.lock_key(connection, f"partition:{partition}")
        rows, limit = _next_batch(connection, partition, limit)
        if not rows:
            return Batch(0, 0, full=False)
        taken, locked = now(), time.perf_counter()
        by_aggregate: dict[str, list[Row[Any]]] = {}
        for row in rows:
            by_aggregate.setdefault(row.aggregate_id, []).append(row)
        loaded = _load(connection, by_aggregate)
        outcomes: list[Outcome] = []
        appends: list[eventstore.StreamAppend] = []
        for aggregate_id, commands in by_aggregate.items():
            decider = registry.DECIDERS[commands[0].aggregate_type]
            start = loaded[aggregate_id]
            state, new_events = start.state, []
            for row in commands:
                deciding = time.perf_counter()
                outcome, events, state = _handle(connection, decider, row, state)
                metrics.COMMAND_STAGE.labels("decide").observe(time.perf_counter() - deciding)
                outcomes.append(outcome)
                new_events += [registry.encode_event(event, _metadata(row)) for event in events]
            appends.append(
                eventstore.StreamAppend(aggregate_id, decider.stream_type, start.version, new_events)
            )
            version = start.version + len(new_events)
            snapshots.save_if_due(connection, decider, aggregate_id, state, version, start.since)
        at, committing = now(), time.perf_counter()
        appended = eventstore.append_streams(connection, appends, at)
        outcomes = _with_positions(outcomes, appended)
        mailbox.complete(connection, outcomes, at)
        hit("handler.before_commit")
    hit("handler.after_commit")
    committed = time.perf_counter()
    for row in rows:
        metrics.COMMAND_STAGE.labels("queue").observe(max((taken - row.submitted_at).total_seconds(), 0.0))
        metrics.COMMAND_STAGE.labels("lock").observe(locked - started)
        metrics.COMMAND_STAGE.labels("commit").observe(committed - committing)
    _report(rows, outcomes, len(appended), committed - started)
    return Batch(len(rows), len(appended), full=len(rows) == limit, outcomes=tuple(outcomes))


def _report(rows: Sequence[Row[Any]], outcomes: list[Outcome], appended: int, seconds: float) -> None:
    """After the commit: the batch's metrics, and one log line per command."""
    metrics.COMMAND_HANDLE_DURATION.observe(seconds)
    metrics.COMMAND_BATCH_SIZE.observe(len(rows))
    metrics.EVENTS_APPENDED.inc(appended)
    by_id = {row.id: row for row in rows}
    for outcome in outcomes:
        row = by_id[outcome.command_id]
        metrics.COMMANDS.labels(row.type, outcome.status).inc()
        log.info(
            "command handled", command_id=row.id, correlation_id=row.correlation_id, command_type=row.type,
            status=outcome.status, position=outcome.position,
        )  # fmt: skip


def _with_positions(outcomes: list[Outcome], appended: list[eventstore.RecordedEvent]) -> list[Outcome]:
    """Each outcome with the position of its command's last event (its consistency token)."""
    last = {event.metadata["command_id"]: event.position for event in appended}
    return [replace(o, position=last.get(o.command_id)) for o in outcomes]


def _load(connection: Connection, by_aggregate: dict[str, list[Row[Any]]]) -> dict[str, snapshots.Loaded]:
    """Every aggregate of the batch, loaded with a few queries per aggregate type."""
    by_type: dict[str, list[str]] = {}
    for aggregate_id, commands in by_aggregate.items():
        by_type.setdefault(commands[0].aggregate_type, []).append(aggregate_id)
    loaded: dict[str, snapshots.Loaded] = {}
    for aggregate_type, aggregate_ids in by_type.items():
        loaded.update(snapshots.load_many(connection, registry.DECIDERS[aggregate_type], aggregate_ids))
    return loaded


def _handle(
    connection: Connection, decider: AnyDecider, row: Row[Any], state: Any
) -> tuple[Outcome, list[Any], Any]:
    try:
        command_type: Any = registry.COMMANDS[row.type][0]
        command = from_json(command_type, {**row.payload, "at": row.submitted_at.isoformat()})
        events = list(decider.decide(command, state))
        inline = [(p, e) for e in events for p in INLINE_PROJECTIONS if isinstance(e, p.handles)]
        if len(inline) == 1:  # it rejects having written nothing: no savepoint needed
            inline[0][0].apply(connection, inline[0][1])
        elif inline:
            with connection.begin_nested():
                for projection, event in inline:
                    projection.apply(connection, event)
    except Rejected as rejection:
        return Outcome(row.seq, REJECTED, str(rejection), row.id), [], state
    except DBAPIError:
        raise
    except Exception:
        log.exception("command could not be handled", command_id=row.id, correlation_id=row.correlation_id)
        return Outcome(row.seq, FAILED, "internal error while handling the command", row.id), [], state
    return Outcome(row.seq, SUCCEEDED, None, row.id), events, decider.fold(events, state)


def _metadata(row: Row[Any]) -> dict[str, Any]:
    return {
        "command_id": row.id,
        "correlation_id": row.correlation_id,
        "causation_id": row.id,
        "actor": Actor(row.actor, row.actor_credential, tuple(row.actor_roles)).metadata(),
    }


def _count_attempt(partition: int, config: Settings) -> None:
    """Count a failed try at the batch that failed (the same selection, read again)."""
    try:
        with db.writing(config.database_url) as connection:
            db.lock_key(connection, f"partition:{partition}")
            rows, _limit = _next_batch(connection, partition, config.command_batch)
            seqs = [row.seq for row in rows]
            mailbox.count_attempt(connection, seqs, config.max_attempts, now())
            failed = [row for row in mailbox.by_seq(connection, seqs) if row.status == FAILED]
    except DBAPIError:
        log.warning("could not count a failed attempt", partition=partition)
        return
    for row in failed:
        metrics.COMMANDS.labels(row.type, FAILED).inc()
        log.warning("command failed", command_id=row.id, correlation_id=row.correlation_id, error=row.error)
