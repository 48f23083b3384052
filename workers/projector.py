"""Running projections: apply events after the checkpoint and advance it in one transaction (I5).

An event a projection cannot apply is retried a bounded number of times, then the projection
halts at it, visibly, without holding up the others (I7).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import DBAPIError

from store import db, eventstore, logs, metrics, registry
from store.eventstore import RecordedEvent
from store.schema import events, projection_skips, projections
from store.settings import Settings
from workers.failpoints import hit
from workers.processes import PROCESS_MANAGERS
from workers.projections import PROJECTIONS
from workers.projections.base import Partitions, Projection

log = logs.get(__name__)

RUNNING, HALTED = "RUNNING", "HALTED"

Progress = Callable[[str, int], None]  # (projection, position) after each committed batch
Ring = Callable[[Partitions], None]  # the partitions of commands a process manager recorded, after the commit


def _unheard(name: str, position: int) -> None:
    """The default `Progress`: nobody is told."""


def _unrung(partitions: Partitions) -> None:
    """The default `Ring`: beat will ring."""


def names() -> list[str]:
    """Every projection, then every process manager: each has a checkpoint."""
    return [*PROJECTIONS, *PROCESS_MANAGERS]


def consumer(config: Settings, name: str) -> Projection:
    """The projection or process manager called `name`."""
    if name in PROCESS_MANAGERS:
        return PROCESS_MANAGERS[name](config)
    return PROJECTIONS[name]


@dataclass
class PoisonEvent(Exception):
    position: int
    index: int
    error: str


class RetryLater(Exception):
    """An event failed to apply; the projection should be tried again after a pause."""


class NotHalted(Exception):
    """A skip was asked for an event the projection is not halted at."""


def catch_up(
    config: Settings,
    name: str,
    batch_size: int | None = None,
    on_progress: Progress = _unheard,
    ring: Ring = _unrung,
) -> int:
    """Apply every event up to the head; returns how many. Raises `RetryLater` on a failing event."""
    url, limit = config.database_url, batch_size or config.projection_batch
    total = 0
    if _caught_up(url, name):
        return 0
    found = consumer(config, name)
    while True:
        try:
            applied = project_batch(url, name, limit, on_progress, found, ring)
        except PoisonEvent as poison:
            total += project_batch(url, name, poison.index, on_progress, found, ring) if poison.index else 0
            if not _count_failure(url, name, poison, config.max_attempts):
                raise RetryLater(poison.error) from poison
            return total
        total += applied
        if applied < limit:
            return total


def catch_up_all(
    config: Settings, wanted: list[str], on_progress: Progress = _unheard, ring: Ring = _unrung
) -> int:
    """Catch every projection in `wanted` up to the head; returns how many events they applied
    (an event applied by three projections counts three times).

    The fast path runs them together: each batch of events is read and decoded once, applied by
    every projection behind it, and committed with all their checkpoints in one transaction.
    Should a projection fail there, nothing of that batch is kept and each is caught up on its
    own (`catch_up`), so one failing does not hold up the others.
    """
    total = 0
    try:
        while True:
            applied, more = _together(config, wanted, on_progress, ring)
            total += applied
            if not more:
                return total
    except DBAPIError:
        raise
    except Exception:
        log.info("projecting together failed; catching up one by one", exc_info=True)
    failure = None
    for name in wanted:
        try:
            total += catch_up(config, name, on_progress=on_progress, ring=ring)
        except RetryLater as error:
            failure = error
    if failure is not None:
        raise failure
    return total


def _together(config: Settings, wanted: list[str], on_progress: Progress, ring: Ring) -> tuple[int, bool]:
    """One batch for every running projection of `wanted` behind the head, in one transaction;
    returns how many events they applied and whether more may be waiting."""
    found = {name: consumer(config, name) for name in wanted}
    with db.writing(config.database_url) as connection:
        checkpoints = lock_checkpoints(connection, wanted)
        head = eventstore.head(connection)
        behind = {n: c.position for n, c in checkpoints.items() if c.status == RUNNING and c.position < head}
        if not behind:
            return 0, False
        traced = log.isEnabledFor(logging.DEBUG)
        metadata = traced or any(found[name].with_metadata for name in behind)
        batch = eventstore.read_all(
            connection, min(behind.values()), config.projection_batch, with_metadata=metadata
        )
        decoded = [(recorded, registry.decode_event(recorded)) for recorded in batch]
        applied: dict[str, list[RecordedEvent]] = {}
        partitions: Partitions = set()
        for name, position in behind.items():
            if mine := [(recorded, event) for recorded, event in decoded if recorded.position > position]:
                partitions |= found[name].apply_all(connection, mine)
                save_checkpoint(connection, name, position=mine[-1][0].position, attempts=0)
                applied[name] = [recorded for recorded, _ in mine]
        hit("projector.before_commit")
    if partitions:
        ring(partitions)
    for name, events_applied in applied.items():
        _report(name, events_applied, on_progress, traced)
    return sum(map(len, applied.values())), len(batch) == config.projection_batch


def project_batch(
    url: str,
    name: str,
    limit: int,
    on_progress: Progress = _unheard,
    found: Projection | None = None,
    ring: Ring = _unrung,
) -> int:
    projection = found or PROJECTIONS[name]
    with db.writing(url) as connection:
        checkpoint = lock_checkpoint(connection, name)
        if checkpoint.status == HALTED:
            return 0
        traced = log.isEnabledFor(logging.DEBUG)  # the events' correlation ids, read only to log them
        metadata = traced or projection.with_metadata
        batch = eventstore.read_all(connection, checkpoint.position, limit, with_metadata=metadata)
        try:
            with connection.begin_nested():
                partitions = projection.apply_all(connection, [(r, registry.decode_event(r)) for r in batch])
        except DBAPIError:
            raise
        except Exception:
            _find_poison(connection, projection, batch)
            raise
        if batch:
            save_checkpoint(connection, name, position=batch[-1].position, attempts=0)
            hit("projector.before_commit")
    if partitions:
        ring(partitions)
    if batch:
        _report(name, batch, on_progress, traced)
    return len(batch)


def _report(name: str, batch: list[RecordedEvent], on_progress: Progress, traced: bool) -> None:
    """After the commit: the projection's metrics and log line, and who is told of its progress."""
    metrics.EVENTS_PROJECTED.labels(name).inc(len(batch))
    applied = datetime.now(UTC)
    delay = metrics.EVENT_PROJECTED.labels(name)
    for recorded in batch:
        delay.observe(max((applied - recorded.recorded_at).total_seconds(), 0))
    log.info(
        "projected", projection=name, first=batch[0].position, last=batch[-1].position, events=len(batch)
    )
    if traced:
        correlations = sorted({str(r.metadata.get("correlation_id")) for r in batch})
        log.debug("projected correlations", projection=name, correlation_ids=correlations)
    on_progress(name, batch[-1].position)


def _find_poison(connection: Connection, projection: Projection, batch: list[RecordedEvent]) -> None:
    """Apply the batch event by event, each in a savepoint, and raise `PoisonEvent` at the failing one."""
    for index, recorded in enumerate(batch):
        try:
            with connection.begin_nested():
                projection.apply(connection, recorded, registry.decode_event(recorded))
        except DBAPIError:
            raise
        except Exception as error:
            raise PoisonEvent(recorded.position, index, f"{type(error).__name__}: {error}") from error


def _caught_up(url: str, name: str) -> bool:
    """True when the projection is halted or at the head: a doorbell that needs no write."""
    with db.reading(url) as connection:
        row = connection.execute(
            select(projections.c.position, projections.c.status).where(projections.c.name == name)
        ).first()
        return row is not None and (row.status == HALTED or row.position >= eventstore.head(connection))


def _count_failure(url: str, name: str, poison: PoisonEvent, max_attempts: int) -> bool:
    """Count a failed try at the event; halt at it once out of tries. True if halted."""
    with db.writing(url) as connection:
        checkpoint = lock_checkpoint(connection, name)
        attempts: int = checkpoint.attempts + 1
        halted = attempts >= max_attempts
        save_checkpoint(
            connection,
            name,
            attempts=attempts,
            error=poison.error,
            error_position=poison.position,
            status=HALTED if halted else RUNNING,
        )
    return halted


def reset(url: str, name: str) -> None:
    """Empty the projection's tables and rewind it to the start, to rebuild it from every event.

    Skips recorded for it no longer apply: the rebuild replays every event.
    """
    with db.writing(url) as connection:
        lock_checkpoint(connection, name)
        for table in PROJECTIONS[name].tables:
            connection.execute(table.delete())
        connection.execute(projection_skips.delete().where(projection_skips.c.projection == name))
        save_checkpoint(
            connection, name, position=0, status=RUNNING, error=None, error_position=None, attempts=0
        )


def resume(url: str, name: str) -> None:
    """Let a halted projection try its failing event again."""
    with db.writing(url) as connection:
        lock_checkpoint(connection, name)
        save_checkpoint(connection, name, status=RUNNING, error=None, error_position=None, attempts=0)


def skip(url: str, name: str, position: int, by: str) -> None:
    """Step a halted projection over the event it is halted at, and record who did it."""
    with db.writing(url) as connection:
        checkpoint = lock_checkpoint(connection, name)
        if checkpoint.status != HALTED or checkpoint.error_position != position:
            raise NotHalted(f"projection {name} is not halted at position {position}")
        event_type = connection.execute(select(events.c.type).where(events.c.position == position)).scalar()
        connection.execute(
            insert(projection_skips).values(
                projection=name,
                position=position,
                event_type=event_type or "?",
                error=checkpoint.error,
                skipped_by=by,
                skipped_at=datetime.now(UTC),
            )
        )
        save_checkpoint(
            connection, name, position=position, status=RUNNING, error=None, error_position=None, attempts=0
        )


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int
    status: str
    error: str | None
    error_position: int | None
    attempts: int

    @property
    def lag(self) -> int:
        return self.head - self.position


def statuses(url: str) -> list[Status]:
    """Every registered projection's checkpoint, beside the head of the store."""
    with db.reading(url) as connection:
        head = eventstore.head(connection)
        rows = {row.name: row for row in connection.execute(select(projections))}
    return [
        Status(name, row.position, head, row.status, row.error, row.error_position, row.attempts)
        if (row := rows.get(name))
        else Status(name, 0, head, RUNNING, None, None, 0)
        for name in names()
    ]


def behind(url: str) -> list[str]:
    """Running projections whose checkpoint is behind the head of the store."""
    return [s.name for s in statuses(url) if s.status == RUNNING and s.lag > 0]


def save_checkpoint(connection: Connection, name: str, **values: Any) -> None:
    connection.execute(
        update(projections).where(projections.c.name == name).values(updated_at=datetime.now(UTC), **values)
    )


def create_checkpoints(url: str) -> None:
    """Every registered projection's checkpoint, created together the first time: the API takes
    the checkpoints as the list of projections a write must reach to be visible, so `migrate` and
    `up` create them (one added by an upgrade included) before anything is served."""
    with db.reading(url) as connection:
        found = set(connection.execute(select(projections.c.name)).scalars())
    if missing := [name for name in names() if name not in found]:
        with db.writing(url) as connection:
            _insert_checkpoints(connection, missing)


def _insert_checkpoints(connection: Connection, names: list[str]) -> None:
    at = datetime.now(UTC)
    connection.execute(
        db.insert_new(connection, projections, ["name"]),
        [{"name": n, "position": 0, "status": RUNNING, "attempts": 0, "updated_at": at} for n in names],
    )


def lock_checkpoints(connection: Connection, wanted: list[str]) -> dict[str, Row[Any]]:
    """The checkpoints of `wanted`, locked in name order, by name. The first time one is missing,
    every registered projection's is created with it (as `create_checkpoints` does)."""
    locking = select(projections).where(projections.c.name.in_(wanted)).order_by(projections.c.name)
    found = {row.name: row for row in connection.execute(locking.with_for_update())}
    if missing := [name for name in wanted if name not in found]:
        _insert_checkpoints(connection, list(dict.fromkeys([*names(), *missing])))
        found = {row.name: row for row in connection.execute(locking.with_for_update())}
    return {name: found[name] for name in wanted}


def lock_checkpoint(connection: Connection, name: str) -> Row[Any]:
    locking = select(projections).where(projections.c.name == name).with_for_update()
    if (row := connection.execute(locking).first()) is not None:
        return row
    _insert_checkpoints(connection, [name])
    return connection.execute(locking).one()
