"""Rebuilding a projection with no downtime: every event is replayed into shadow tables while the
live ones keep serving, then one transaction puts the new rows in place, so a reader sees the old
version or the new one, never an empty or half-built table.

The shadow tables live in a schema of their own on PostgreSQL and in a file beside the database
on SQLite; the projection's own code fills them, through SQLAlchemy's `schema_translate_map`.
The switch locks the projection's checkpoint (the live projector waits for it), applies the
events recorded meanwhile, replaces the live rows with the shadow's, moves the checkpoint and
commits. Events a projection was told to skip (`projections skip`) are skipped again, as
`eventshop verify` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, delete, insert, select, update
from sqlalchemy.engine import make_url

from store import db, eventstore, registry
from store.eventstore import RecordedEvent
from store.schema import projection_rebuilds, projection_skips
from store.settings import Settings
from workers import projector
from workers.projections import PROJECTIONS
from workers.projections.base import Batch, Projection

BATCH = 5000
SHOWN_DIFFERENCES = 20  # per table, in a dry run
ATTACHED = "shadow"  # the shadow file's name on a SQLite connection during the switch

Progress = Callable[[int, int], None]  # (position replayed, position aimed at)


class RebuildFailed(Exception):
    """An event could not be applied to the new version; the live one was left as it was."""


@dataclass(frozen=True)
class Rebuilding:
    """A rebuild in progress, as `projections status` shows it."""

    name: str
    position: int
    target: int
    started_at: datetime
    updated_at: datetime


def rebuild(config: Settings, name: str, on_progress: Progress) -> int:
    """Build a new version of projection `name` from every event and switch to it; returns the
    position the projection is at after the switch."""
    projection = PROJECTIONS[name]
    with _shadow(config.database_url, projection) as shadow:
        target = _head(config.database_url)
        _record_start(config.database_url, name, target)
        try:
            position = _replay(config.database_url, shadow, projection, 0, target, on_progress)
            return _switch(config.database_url, shadow, projection, position)
        finally:
            _record_end(config.database_url, name)


def differences(config: Settings, name: str, on_progress: Progress) -> list[str]:
    """Replay every event into shadow tables up to the live checkpoint and compare them with the
    live tables; the differences, described one per line (empty when they are equal)."""
    projection = PROJECTIONS[name]
    with _shadow(config.database_url, projection) as shadow:
        target = _checkpoint(config.database_url, name)
        position = _replay(config.database_url, shadow, projection, 0, target, on_progress)
        with shadow.switching() as connection:
            live = projector.lock_checkpoint(connection, name).position
            _apply(connection, shadow, projection, position, live)
            return [line for table in projection.tables for line in _compare(connection, table, shadow)]


def rebuilds(url: str) -> dict[str, Rebuilding]:
    with db.reading(url) as connection:
        return {row.name: Rebuilding(*row) for row in connection.execute(select(projection_rebuilds))}


class _Shadow:
    """Where the shadow tables of one projection live, and connections that reach them."""

    def __init__(self, url: str, projection: Projection) -> None:
        self.url = url
        self.tables = projection.tables
        self.postgres = not db.normalise_url(url).startswith("sqlite")
        database = make_url(db.normalise_url(url)).database or ""
        self.file = None if self.postgres else Path(f"{database}.shadow-{projection.name}")
        self.schema = f"shadow_{projection.name}" if self.postgres else ATTACHED

    def create(self) -> None:
        self.drop()
        if self.postgres:
            with db.writing(self.url) as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
                for table in self.tables:
                    _bare(table, self.schema).create(connection)
        else:
            with db.writing(self._file_url()) as connection:
                for table in self.tables:
                    _bare(table, None).create(connection)

    def drop(self) -> None:
        if self.postgres:
            with db.writing(self.url) as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            return
        assert self.file is not None
        db.dispose(self._file_url())
        for suffix in ("", "-wal", "-shm", "-writer", "-journal"):
            Path(f"{self.file}{suffix}").unlink(missing_ok=True)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction in which the projection's tables are the shadow ones."""
        if not self.postgres:
            with db.writing(self._file_url()) as connection:
                yield connection
            return
        with db.writing(self.url) as connection:
            yield connection.execution_options(schema_translate_map={None: self.schema})

    @contextmanager
    def switching(self) -> Iterator[Connection]:
        """A write transaction on the live database that also reaches the shadow tables, as
        `self.schema` (on SQLite the shadow file is attached to the connection first)."""
        if self.postgres:
            with db.writing(self.url) as connection:
                yield connection
            return
        found = db.engine(self.url)
        with db.writer_turn(found), found.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute(f"ATTACH DATABASE ? AS {ATTACHED}", (str(self.file),))
            try:
                with connection.begin():
                    yield connection
            finally:
                driver.execute(f"DETACH DATABASE {ATTACHED}")

    def table(self, table: Table) -> Table:
        """`table` as the shadow's, for statements on a `switching` connection."""
        return _bare(table, self.schema)

    def _file_url(self) -> str:
        return f"sqlite:///{self.file}"


def _bare(table: Table, schema: str | None) -> Table:
    """A copy of `table` in `schema` with its columns and constraints but no secondary index:
    rows load faster, and the projections look rows up by primary key."""
    copy = table.to_metadata(MetaData(), schema=schema) if schema else table.to_metadata(MetaData())
    copy.indexes.clear()
    return copy


@contextmanager
def _shadow(url: str, projection: Projection) -> Iterator[_Shadow]:
    shadow = _Shadow(url, projection)
    shadow.create()
    try:
        yield shadow
    finally:
        shadow.drop()


def _replay(
    url: str, shadow: _Shadow, projection: Projection, start: int, target: int, on_progress: Progress
) -> int:
    """Apply the events after `start` up to `target` to the shadow tables; returns the position reached."""
    position = start
    for position, batch in _batches(url, projection, start, target):
        with shadow.writing() as connection:
            _apply_batch(connection, projection, batch)
        _record_progress(url, projection.name, position)
        on_progress(position, target)
    return position


def _batches(url: str, projection: Projection, start: int, target: int) -> Iterator[tuple[int, Batch]]:
    """The events after `start` up to `target`, batch by batch, decoded and without those to skip,
    each with the position it reaches: each read (by a thread of its own) while the one before it
    is applied."""
    with ThreadPoolExecutor(1, thread_name_prefix="rebuild-reader") as reader:
        upcoming = reader.submit(_read, url, projection, start, target)
        while True:
            position, batch = upcoming.result()
            if position is None:
                return
            upcoming = reader.submit(_read, url, projection, position, target)
            yield position, batch


def _read(url: str, projection: Projection, after: int, target: int) -> tuple[int | None, Batch]:
    """The decoded events to apply after `after`, and the position they reach (None once `target`
    is reached)."""
    with db.reading(url) as connection:
        batch = eventstore.read_all(
            connection, after, min(BATCH, target - after), with_metadata=projection.with_metadata
        )
        skipped = _skipped(connection, projection.name, batch)
    return (batch[-1].position if batch else None), _decoded(batch, skipped)


def _apply(connection: Connection, shadow: _Shadow, projection: Projection, start: int, end: int) -> None:
    """Within the switch: apply the events after `start` up to `end` to the shadow tables."""
    position = start
    while position < end:
        batch = eventstore.read_all(
            connection, position, min(BATCH, end - position), with_metadata=projection.with_metadata
        )
        if not batch:
            return
        decoded = _decoded(batch, _skipped(connection, projection.name, batch))
        connection.execution_options(schema_translate_map={None: shadow.schema})
        try:
            _apply_batch(connection, projection, decoded)
        finally:
            connection.execution_options(schema_translate_map=None)
        position = batch[-1].position


def _decoded(batch: list[RecordedEvent], skipped: set[int]) -> Batch:
    """The batch's events to apply, decoded."""
    try:
        return [(r, registry.decode_event(r)) for r in batch if r.position not in skipped]
    except Exception as error:
        raise _failed(batch, error) from error


def _apply_batch(connection: Connection, projection: Projection, batch: Batch) -> None:
    if not batch:
        return
    try:
        projection.apply_all(connection, batch)
    except Exception as error:
        raise _failed([recorded for recorded, _ in batch], error) from error


def _failed(batch: list[RecordedEvent], error: Exception) -> RebuildFailed:
    first, last = batch[0].position, batch[-1].position
    return RebuildFailed(
        f"events {first}-{last} could not be applied ({type(error).__name__}: {error});"
        " the live version was left as it was"
    )


def _switch(url: str, shadow: _Shadow, projection: Projection, position: int) -> int:
    """Put the shadow's rows in place of the live ones and move the checkpoint, in one transaction."""
    with shadow.switching() as connection:
        projector.lock_checkpoint(connection, projection.name)
        head = eventstore.head(connection)
        _apply(connection, shadow, projection, position, head)
        for table in projection.tables:
            columns = [column.name for column in table.c]
            connection.execute(delete(table))
            connection.execute(insert(table).from_select(columns, select(shadow.table(table))))
        projector.save_checkpoint(
            connection, projection.name, position=head, status=projector.RUNNING, error=None,
            error_position=None, attempts=0,
        )  # fmt: skip
    if shadow.postgres:
        with db.writing(url) as connection:
            for table in projection.tables:
                connection.exec_driver_sql(f'ANALYZE "{table.name}"')
    return head


def _compare(connection: Connection, table: Table, shadow: _Shadow) -> Iterator[str]:
    """The rows that differ between the live `table` and its shadow, merged in primary-key order."""
    width = len(table.primary_key.columns)
    live, fresh = _ordered(connection, table), _ordered(connection, shadow.table(table))
    missing, extra, different = "missing from the live table", "in the live table only", "different"
    counts = dict.fromkeys((missing, extra, different), 0)
    shown: list[str] = []
    old, new = next(live, None), next(fresh, None)
    while old is not None or new is not None:
        if new is not None and (old is None or new[:width] < old[:width]):
            counts[missing] += 1
            shown.append(f"{table.name} {new[:width]}: {missing}: {new}")
            new = next(fresh, None)
        elif old is not None and (new is None or old[:width] < new[:width]):
            counts[extra] += 1
            shown.append(f"{table.name} {old[:width]}: {extra}: {old}")
            old = next(live, None)
        else:
            assert old is not None and new is not None
            if old != new:
                counts[different] += 1
                shown.append(f"{table.name} {old[:width]}: live {old} != replayed {new}")
            old, new = next(live, None), next(fresh, None)
    if any(counts.values()):
        yield from shown[:SHOWN_DIFFERENCES]
        yield f"{table.name}: " + ", ".join(f"{count} {what}" for what, count in counts.items())


def _ordered(connection: Connection, table: Table) -> Iterator[tuple[Any, ...]]:
    for row in connection.execute(select(table).order_by(*table.primary_key.columns)):
        yield tuple(row)


def _skipped(connection: Connection, name: str, batch: list[Any]) -> set[int]:
    if not batch:
        return set()
    found = connection.execute(
        select(projection_skips.c.position).where(
            projection_skips.c.projection == name,
            projection_skips.c.position.between(batch[0].position, batch[-1].position),
        )
    )
    return set(found.scalars())


def _head(url: str) -> int:
    with db.reading(url) as connection:
        return eventstore.head(connection)


def _checkpoint(url: str, name: str) -> int:
    return next(s.position for s in projector.statuses(url) if s.name == name)


def _record_start(url: str, name: str, target: int) -> None:
    at = datetime.now(UTC)
    with db.writing(url) as connection:
        connection.execute(delete(projection_rebuilds).where(projection_rebuilds.c.name == name))
        connection.execute(
            insert(projection_rebuilds).values(
                name=name, position=0, target=target, started_at=at, updated_at=at
            )
        )


def _record_progress(url: str, name: str, position: int) -> None:
    with db.writing(url) as connection:
        connection.execute(
            update(projection_rebuilds)
            .where(projection_rebuilds.c.name == name)
            .values(position=position, updated_at=datetime.now(UTC))
        )


def _record_end(url: str, name: str) -> None:
    with db.writing(url) as connection:
        connection.execute(delete(projection_rebuilds).where(projection_rebuilds.c.name == name))
