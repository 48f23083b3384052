"""The order process manager at work (`domain.order_process` decides; this writes).

The projector runs it like a projection, with a checkpoint of its own: for each batch of events,
its state per order, the commands it issues (into the mailbox) and its payment deadlines are
written with its checkpoint in one transaction, so it reacts to each event exactly once (I5). A
command it issues has an id derived from the event and its place in the reaction: a replayed
reaction records nothing new (I2). Each carries the order's correlation id, and the event's
position as its causation. The projector rings the commands' partitions after the commit; beat
rings them too if that doorbell is lost (I6), and fires the deadlines that are due.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from domain.order_process import HANDLES, OrderProcess, on_deadline, order_of, react
from store import db, mailbox, registry
from store.actor import Actor
from store.codec import from_json, to_json
from store.eventstore import RecordedEvent
from store.schema import deadlines, order_processes
from store.settings import Settings
from workers.failpoints import hit
from workers.projections.base import Batch, Partitions, Projection

NAME = "order_process"
ACTOR = Actor("order-process", "process")
COMMAND_IDS = uuid.UUID("6a1f3c2e-8d4b-4e7a-9c5f-1b2d3e4f5a60")


def projection(config: Settings) -> Projection:
    """The process manager as the projector runs it, with the settings it needs."""
    timeout = timedelta(seconds=config.payment_timeout)

    def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
        apply_batch(connection, [(recorded, event)])

    def apply_batch(connection: Connection, batch: Batch) -> Partitions:
        return _react(connection, batch, timeout, config.partitions)

    return Projection(NAME, (order_processes, deadlines), apply, apply_batch, with_metadata=True)


def _react(connection: Connection, batch: Batch, timeout: timedelta, partitions: int) -> Partitions:
    mine = [(recorded, event) for recorded, event in batch if isinstance(event, HANDLES)]
    if not mine:
        return set()
    ids = {order_of(event) for _, event in mine}
    found = connection.execute(select(order_processes).where(order_processes.c.order_id.in_(ids)))
    states = {row.order_id: (from_json(OrderProcess, row.state), row.correlation_id) for row in found}
    before = dict(states)
    issued: list[mailbox.NewCommand] = []
    armed_by: dict[str, int] = {}
    for recorded, event in mine:
        hit("react.order_process", recorded.data)
        order_id = order_of(event)
        state, correlation = states.get(order_id, (OrderProcess(), _correlation(recorded)))
        reaction = react(state, event, timeout)
        if reaction.state == state and not reaction.commands:
            continue
        for index, command in enumerate(reaction.commands):
            issued.append(
                issue(command, _command_id(recorded, index), correlation, str(recorded.position), partitions)
            )
        if reaction.state.payment_due_at != state.payment_due_at:
            armed_by[order_id] = recorded.position
        states[order_id] = (reaction.state, correlation)
    changed = {key: value for key, value in states.items() if before.get(key) != value}
    _save(connection, changed, armed_by)
    results = mailbox.record_many(connection, issued) if issued else []
    return {r.partition for r in results if isinstance(r, mailbox.Receipt) and r.status == mailbox.PENDING}


def _save(
    connection: Connection, changed: dict[str, tuple[OrderProcess, str]], armed_by: dict[str, int]
) -> None:
    """Write the changed states, and keep each order's deadline in step with its state."""
    if not changed:
        return
    at = datetime.now(UTC)
    keys = list(changed)
    connection.execute(delete(order_processes).where(order_processes.c.order_id.in_(keys)))
    connection.execute(
        insert(order_processes),
        [
            {"order_id": key, "state": to_json(state), "correlation_id": correlation, "updated_at": at}
            for key, (state, correlation) in changed.items()
        ],
    )
    rearmed = [key for key in keys if key in armed_by]
    connection.execute(delete(deadlines).where(deadlines.c.order_id.in_(rearmed)))
    due = [
        {
            "order_id": key,
            "due_at": state.payment_due_at,
            "correlation_id": correlation,
            "armed_by": armed_by[key],
        }
        for key, (state, correlation) in changed.items()
        if key in armed_by and state.payment_due_at is not None
    ]
    if due:
        connection.execute(insert(deadlines), due)


def _correlation(recorded: RecordedEvent) -> str:
    return str(recorded.metadata.get("correlation_id") or recorded.stream_id)


def _command_id(recorded: RecordedEvent, index: int) -> str:
    return str(uuid.uuid5(COMMAND_IDS, f"{recorded.stream_id}/{recorded.version}/{index}"))


def issue(
    command: Any, command_id: str, correlation: str, causation: str, partitions: int
) -> mailbox.NewCommand:
    """`command` as the process manager records it in the mailbox."""
    decider = registry.decider_of(command)
    aggregate_id = decider.id_of(command)
    return mailbox.NewCommand(
        id=command_id,
        type=type(command).__name__,
        aggregate_type=decider.stream_type,
        aggregate_id=aggregate_id,
        partition=mailbox.partition_of(aggregate_id, partitions),
        payload={key: value for key, value in to_json(command).items() if key != "at"},
        submitted_at=command.at,
        actor=ACTOR,
        correlation_id=correlation,
        causation_id=causation,
    )


def fire_due_deadlines(config: Settings, now: datetime | None = None) -> Partitions:
    """Record the commands of every deadline that is due (expiring unpaid orders) and remove those
    deadlines, in one transaction; returns the partitions to ring. A deadline fired twice issues
    one command: its id comes from the order and the due time."""
    moment = now or datetime.now(UTC)
    with db.writing(config.database_url) as connection:
        query = select(deadlines).where(deadlines.c.due_at <= moment).order_by(deadlines.c.due_at).limit(500)
        if db.is_postgres(connection):
            query = query.with_for_update(skip_locked=True)
        due = connection.execute(query).all()
        if not due:
            return set()
        found = connection.execute(
            select(order_processes).where(order_processes.c.order_id.in_([row.order_id for row in due]))
        )
        states = {row.order_id: from_json(OrderProcess, row.state) for row in found}
        issued = [
            issue(
                command,
                str(uuid.uuid5(COMMAND_IDS, f"deadline/{row.order_id}/{row.due_at.isoformat()}")),
                row.correlation_id,
                str(row.armed_by),
                config.partitions,
            )
            for row in due
            for command in on_deadline(states.get(row.order_id, OrderProcess()), moment)
        ]
        connection.execute(delete(deadlines).where(deadlines.c.order_id.in_([row.order_id for row in due])))
        results = mailbox.record_many(connection, issued) if issued else []
    return {r.partition for r in results if isinstance(r, mailbox.Receipt) and r.status == mailbox.PENDING}
