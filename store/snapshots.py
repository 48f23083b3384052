"""Snapshots: an aggregate's state saved every `EVERY` events, so a load reads a short tail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite

from domain.decider import AnyDecider
from store import db, eventstore, registry
from store.codec import from_json, to_json
from store.schema import events, snapshots

EVERY = 100


@dataclass(frozen=True)
class Loaded:
    """An aggregate's state, its version, and the version of the snapshot it started from."""

    state: Any
    version: int
    since: int


def load(connection: Connection, decider: AnyDecider, stream_id: str) -> Loaded:
    return load_many(connection, decider, [stream_id])[stream_id]


def load_many(connection: Connection, decider: AnyDecider, stream_ids: Sequence[str]) -> dict[str, Loaded]:
    """Each aggregate from its snapshot (of the decider's state version) and the events after it,
    in two queries whatever the number of aggregates."""
    found = {stream_id: Loaded(decider.initial_state, 0, 0) for stream_id in stream_ids}
    rows = connection.execute(
        select(snapshots).where(
            snapshots.c.stream_id.in_(stream_ids), snapshots.c.schema_version == decider.state_version
        )
    )
    for row in rows:
        found[row.stream_id] = Loaded(
            from_json(type(decider.initial_state), row.state), row.version, row.version
        )
    snapshot = snapshots.alias("s")
    tails = connection.execute(
        select(events)
        .outerjoin(
            snapshot,
            and_(
                snapshot.c.stream_id == events.c.stream_id, snapshot.c.schema_version == decider.state_version
            ),
        )
        .where(events.c.stream_id.in_(stream_ids), events.c.version > func.coalesce(snapshot.c.version, 0))
        .order_by(events.c.stream_id, events.c.version)
    )
    by_stream: dict[str, list[Any]] = {}
    for row in tails:
        by_stream.setdefault(row.stream_id, []).append(row)
    for stream_id, tail in by_stream.items():
        start = found[stream_id]
        events_ = [registry.decode_event(eventstore.recorded(row)) for row in tail]
        found[stream_id] = Loaded(decider.fold(events_, start.state), tail[-1].version, start.since)
    return found


def save_if_due(
    connection: Connection,
    decider: AnyDecider,
    stream_id: str,
    state: Any,
    version: int,
    since: int,
) -> None:
    """Save the state if `EVERY` or more events came after the last snapshot."""
    if version - since < EVERY:
        return
    dialect = postgresql if db.is_postgres(connection) else sqlite
    values = {
        "stream_id": stream_id,
        "version": version,
        "schema_version": decider.state_version,
        "state": to_json(state),
        "taken_at": datetime.now(UTC),
    }
    connection.execute(
        dialect.insert(snapshots)
        .values(values)
        .on_conflict_do_update(index_elements=["stream_id"], set_=values)
    )
