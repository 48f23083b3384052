"""Snapshots: an aggregate's state saved every `EVERY` events, so a load reads a short tail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from domain.decider import Decider
from store import db, eventstore, registry
from store.codec import from_json, to_json
from store.schema import snapshots

EVERY = 100


def load(connection: Connection, decider: Decider[Any], stream_id: str) -> tuple[Any, int, int]:
    """The aggregate's state, its version, and the version of the snapshot it started from."""
    state, since = decider.initial_state, 0
    row = connection.execute(select(snapshots).where(snapshots.c.stream_id == stream_id)).first()
    if row is not None and row.schema_version == decider.state_version:
        state, since = from_json(type(decider.initial_state), row.state), row.version
    tail = eventstore.read_stream(connection, stream_id, since)
    state = decider.fold([registry.decode_event(event) for event in tail], state)
    return state, tail[-1].version if tail else since, since


def save_if_due(
    connection: Connection, decider: Decider[Any], stream_id: str, state: Any, version: int, since: int
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
