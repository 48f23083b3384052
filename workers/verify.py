"""Checking a live database against the invariants: I1-I5 and I7, those of orders and stock,
that every stored event's shape upcasts to its type's newest, and that no personal value is
stored plain or outlives its customer's forgetting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, create_engine, func, select

from store import db, eventstore, personal, registry
from store.codec import to_json
from store.schema import (
    commands,
    customers,
    deadlines,
    events,
    metadata,
    orders,
    personal_keys,
    projection_skips,
    projections,
    snapshots,
    stock,
)
from workers.processes.order_process import ACTOR as ORDER_PROCESS
from workers.projections import INLINE_PROJECTIONS, PROJECTIONS
from workers.projections.base import InlineProjection, Projection

REPLAY_BATCH = 2000


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


@contextmanager
def _snapshot(url: str) -> Iterator[Connection]:
    """One consistent view of the database: checkpoints and read tables as of one moment."""
    with db.engine(url).connect() as connection:
        if db.is_postgres(connection):
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        else:
            connection = connection.execution_options(readonly=True)
        with connection.begin():
            yield connection


def verify(url: str) -> Report:
    report = Report()
    with _snapshot(url) as connection:
        head = eventstore.head(connection)
        report.counts["events"] = head
        _streams(connection, report)
        readable = _shapes(connection, report)
        _personal_data(connection, report)
        _command_batches(connection, report)
        _positions(connection, head, report)
        if readable:
            _projections(connection, head, report)
            _snapshots(connection, report)
            _orders(connection, head, report)
        else:
            report.notes.append("read tables, snapshots and orders not replayed: some events cannot be read")
        for status, count in connection.execute(
            select(commands.c.status, func.count()).group_by(commands.c.status)
        ):
            report.counts[f"commands {status}"] = count
    return report


def _shapes(connection: Connection, report: Report) -> bool:
    """Every upcaster chain ends at its type's newest version, and every (type, version) stored
    reaches a registered event through them; False if some stored event cannot be read."""
    readable = True
    report.violations.extend(f"upcasters: {problem}" for problem in registry.broken_chains())
    stored = connection.execute(
        select(events.c.type, events.c.schema_version, func.count()).group_by(
            events.c.type, events.c.schema_version
        )
    )
    for event_type, version, count in stored:
        if (problem := registry.unreadable(event_type, version)) is not None:
            report.violations.append(f"{count} stored events unreadable: {problem}")
            readable = False
        elif version != registry.NEWEST[event_type]:
            report.notes.append(
                f"{count} {event_type} events stored as v{version}, read as v{registry.NEWEST[event_type]}"
            )
    return readable


def _personal_data(connection: Connection, report: Report) -> None:
    """No personal value is stored plain: in events, command payloads and the customers table each
    is sealed or None; and a forgotten customer has no key and no value left in its row."""
    plain: dict[str, int] = {}

    def check(where: str, values: dict[str, Any], fields: tuple[str, ...]) -> None:
        for name in fields:
            if values.get(name) is not None and not personal.is_sealed(values[name]):
                plain[where] = plain.get(where, 0) + 1

    event_types = [t for t in registry.NEWEST if registry.personal_of_event(t)]
    for row in connection.execute(select(events.c.type, events.c.data).where(events.c.type.in_(event_types))):
        check("events", row.data, registry.personal_of_event(row.type))
    command_types = [name for name, (kind, _) in registry.COMMANDS.items() if registry.personal(kind)]
    for row in connection.execute(
        select(commands.c.type, commands.c.payload).where(commands.c.type.in_(command_types))
    ):
        check("command payloads", row.payload, registry.personal(registry.COMMANDS[row.type][0]))
    columns = ("name", "email", "address")
    for row in connection.execute(select(customers)):
        check("the customers table", dict(row._mapping), columns)
        if row.forgotten and any(getattr(row, name) is not None for name in columns):
            report.violations.append(
                f"personal data: forgotten customer {row.id} still has values in its row"
            )
    report.violations.extend(
        f"personal data: {count} plain values in {where}" for where, count in plain.items()
    )
    kept = connection.execute(
        select(func.count())
        .select_from(events.join(personal_keys, personal_keys.c.subject == events.c.stream_id))
        .where(events.c.type == "CustomerForgotten", personal_keys.c.wrapped.is_not(None))
    ).scalar_one()
    if kept:
        report.violations.append(f"personal data: {kept} forgotten customers still have a key")


def _streams(connection: Connection, report: Report) -> None:
    """I1: every stream's versions are exactly 1..n."""
    broken = connection.execute(
        select(events.c.stream_id)
        .group_by(events.c.stream_id)
        .having(
            (func.min(events.c.version) != 1)
            | (func.max(events.c.version) != func.count())
            | (func.count(func.distinct(events.c.version)) != func.count())
        )
    ).scalars()
    report.violations += [f"I1: stream {stream} has a gap or a duplicate version" for stream in broken]


def _command_batches(connection: Connection, report: Report) -> None:
    """I2: a command's events are one batch: one stream, consecutive versions and positions."""
    broken = connection.execute(
        select(events.c.command_id)
        .where(events.c.command_id.is_not(None))
        .group_by(events.c.command_id)
        .having(
            (func.count(func.distinct(events.c.stream_id)) != 1)
            | (func.max(events.c.version) - func.min(events.c.version) + 1 != func.count())
            | (func.max(events.c.position) - func.min(events.c.position) + 1 != func.count())
        )
    ).scalars()
    report.violations += [f"I2: command {command} has more than one batch of events" for command in broken]
    unsuccessful = connection.execute(
        select(func.distinct(events.c.command_id))
        .join(commands, commands.c.id == events.c.command_id)
        .where(commands.c.status != "SUCCEEDED")
    ).scalars()
    report.violations += [f"I2: command {command} has events but did not succeed" for command in unsuccessful]


def _positions(connection: Connection, head: int, report: Report) -> None:
    """I3: positions are 1..head, and within a stream they grow with the version."""
    count, highest = connection.execute(select(func.count(), func.max(events.c.position))).one()
    if count != head or (highest or 0) != head:
        report.violations.append(f"I3: {count} events with positions up to {highest}, but the head is {head}")
    previous = func.lag(events.c.position).over(partition_by=events.c.stream_id, order_by=events.c.version)
    ordered = select(events.c.stream_id, events.c.position, previous.label("previous")).subquery()
    broken = connection.execute(
        select(ordered.c.stream_id).where(ordered.c.previous > ordered.c.position).distinct()
    ).scalars()
    report.violations += [f"I3: stream {stream} has positions out of version order" for stream in broken]


def _projections(connection: Connection, head: int, report: Report) -> None:
    """I4/I5/I7: each read table equals a fresh replay up to its checkpoint; checkpoints <= head."""
    checkpoints = {row.name: row for row in connection.execute(select(projections))}
    for name, projection in PROJECTIONS.items():
        checkpoint = checkpoints.get(name)
        position = checkpoint.position if checkpoint else 0
        if position > head:
            report.violations.append(f"I5: projection {name} is at {position}, past the head {head}")
        if checkpoint is not None and checkpoint.status == "HALTED":
            report.notes.append(
                f"I7: projection {name} is halted at event {checkpoint.error_position}: {checkpoint.error}"
            )
        skipped = set(
            connection.execute(
                select(projection_skips.c.position).where(projection_skips.c.projection == name)
            ).scalars()
        )
        _compare(connection, projection, position, skipped, report)
    for inline in INLINE_PROJECTIONS:
        if inline.tables:  # one without tables (forgetting keys) has nothing to replay
            _compare(connection, inline, head, set(), report)


def _orders(connection: Connection, head: int, report: Report) -> None:
    """Orders and stock: no sku is ever oversold, and no process-manager command is refused or
    fails. At rest (nothing pending, every checkpoint at the head): no order is still PLACED, each
    RESERVED one has its payment deadline armed, and each sku's reserved units are exactly those of
    its RESERVED and CONFIRMED orders."""
    held = {row.sku: row for row in connection.execute(select(stock))}
    report.violations += [
        f"orders: sku {sku} has {row.reserved} units reserved but {row.on_hand} on hand"
        for sku, row in held.items()
        if row.reserved > row.on_hand or row.reserved < 0
    ]
    refused = connection.execute(
        select(commands.c.id, commands.c.type, commands.c.status).where(
            commands.c.actor == ORDER_PROCESS.subject, commands.c.status.in_(("REJECTED", "FAILED"))
        )
    )
    report.violations += [
        f"orders: process-manager command {r.id} ({r.type}) ended {r.status}" for r in refused
    ]
    pending = connection.execute(select(func.count()).where(commands.c.status == "PENDING")).scalar_one()
    behind = connection.execute(select(func.count()).where(projections.c.position < head)).scalar_one()
    if pending or behind:
        report.notes.append(
            "orders: not at rest (commands pending or checkpoints behind): settlement not checked"
        )
        return
    armed = set(connection.execute(select(deadlines.c.order_id)).scalars())
    expected: dict[str, int] = {}
    for row in connection.execute(select(orders.c.id, orders.c.status, orders.c.lines)):
        if row.status == "PLACED":
            report.violations.append(f"orders: order {row.id} is still PLACED at rest")
        if row.status == "RESERVED" and row.id not in armed:
            report.violations.append(f"orders: order {row.id} is RESERVED with no payment deadline armed")
        if row.status in ("RESERVED", "CONFIRMED"):
            for line in row.lines:
                expected[line["sku"]] = expected.get(line["sku"], 0) + line["quantity"]
    for sku in sorted(set(expected) | set(held)):
        reserved = held[sku].reserved if sku in held else 0
        if reserved != expected.get(sku, 0):
            report.violations.append(
                f"orders: sku {sku} has {reserved} units reserved, its reserved and confirmed orders "
                f"{expected.get(sku, 0)}"
            )
    report.counts["orders"] = connection.execute(select(func.count()).select_from(orders)).scalar_one()


def _snapshots(connection: Connection, report: Report) -> None:
    """I4 for snapshots: each equals a fold of its stream up to its version."""
    for row in connection.execute(select(snapshots)):
        decider = registry.DECIDERS[eventstore.read_stream(connection, row.stream_id)[0].stream_type]
        history = [e for e in eventstore.read_stream(connection, row.stream_id) if e.version <= row.version]
        state = decider.fold([registry.decode_event(event) for event in history])
        if row.schema_version == decider.state_version and to_json(state) != row.state:
            report.violations.append(f"I4: the snapshot of {row.stream_id} differs from a replay")


def _compare(
    connection: Connection,
    projection: Projection | InlineProjection,
    upto: int,
    skipped: set[int],
    report: Report,
) -> None:
    replayed = _replay(connection, projection, upto, skipped)
    for table in projection.tables:
        live = _rows(connection, table)
        if live != replayed[table.name]:
            missing, extra = len(replayed[table.name] - live), len(live - replayed[table.name])
            report.violations.append(
                f"I4: table {table.name} differs from a replay to position {upto}: "
                f"{missing} rows missing, {extra} extra"
            )


def _replay(
    connection: Connection, projection: Projection | InlineProjection, upto: int, skipped: set[int]
) -> dict[str, set[tuple[Any, ...]]]:
    """The projection's tables rebuilt from scratch in memory from events up to `upto`."""
    scratch = create_engine("sqlite://")
    metadata.create_all(scratch, tables=list(projection.tables))
    with scratch.begin() as memory:
        position = 0
        while position < upto:
            batch = eventstore.read_all(connection, position, min(REPLAY_BATCH, upto - position))
            if not batch:
                break
            for recorded in batch:
                if recorded.position in skipped:
                    continue
                event = registry.decode_event(recorded)
                if isinstance(projection, InlineProjection):
                    projection.apply(memory, event)
                else:
                    projection.apply(memory, recorded, event)
            position = batch[-1].position
        found = {table.name: _rows(memory, table) for table in projection.tables}
    scratch.dispose()
    return found


def _rows(connection: Connection, table: Table) -> set[tuple[Any, ...]]:
    return {tuple(map(_comparable, row)) for row in connection.execute(select(table))}


def _comparable(value: Any) -> Any:
    """A column's value as a set member: JSON documents (lists, objects) as canonical text."""
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, list | dict) else value
