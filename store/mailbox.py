"""The command mailbox: commands recorded by the API, handled per aggregate in recorded order.

Every aggregate belongs to one of `partitions` partitions (a stable hash of its id). A doorbell
names a partition, and a worker drains many aggregates of that partition in one transaction.
The partition is stored with each command when it is recorded; an aggregate's commands are read
by aggregate, whatever their partition, so changing the number of partitions never reorders them.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, select, update

from store import db, registry
from store.actor import ANONYMOUS, Actor
from store.codec import from_json
from store.schema import command_retries, commands, events

PENDING, SUCCEEDED, REJECTED, FAILED = "PENDING", "SUCCEEDED", "REJECTED", "FAILED"


class CommandIdConflict(Exception):
    """A command id was reused with a different command."""


class UnknownCommand(LookupError):
    """No command has this id."""


class NotRetryable(Exception):
    """Only a FAILED command, which appended nothing, may be handled again."""


@dataclass(frozen=True)
class NewCommand:
    """A command as the API records it."""

    id: str
    type: str
    aggregate_type: str
    aggregate_id: str
    partition: int
    payload: dict[str, Any]
    submitted_at: datetime
    actor: Actor = ANONYMOUS
    correlation_id: str | None = None
    causation_id: str | None = None  # the event a process manager reacted to; None for a client's

    def same_as(self, row: Any) -> bool:
        """Whether `row` records this very command: a payload recorded before a field was added
        reads with the field's default, as its command does (`store.codec`)."""
        if (self.type, self.aggregate_id) != (row.type, row.aggregate_id):
            return False
        return bool(
            self.payload == row.payload or _read(self.type, self.payload) == _read(row.type, row.payload)
        )


@dataclass(frozen=True)
class Receipt:
    command_id: str
    aggregate_id: str
    partition: int
    status: str
    new: bool


@dataclass(frozen=True)
class Outcome:
    seq: int
    status: str
    error: str | None = None
    command_id: str = ""
    position: int | None = None  # of the command's last event, once appended


def partition_of(aggregate_id: str, partitions: int) -> int:
    """The partition an aggregate belongs to when there are `partitions` of them."""
    return zlib.crc32(aggregate_id.encode()) % partitions


def record(connection: Connection, command: NewCommand) -> Receipt:
    """Record one PENDING command once; see `record_many`."""
    [result] = record_many(connection, [command])
    if isinstance(result, CommandIdConflict):
        raise result
    return result


def record_many(connection: Connection, new: Sequence[NewCommand]) -> list[Receipt | CommandIdConflict]:
    """Record PENDING commands with one insert; an id seen before (in the table or earlier in
    `new`) returns the first receipt, or a conflict when its command differs (I2)."""
    first: dict[str, NewCommand] = {}
    for command in new:
        first.setdefault(command.id, command)
    inserting = db.insert_new(connection, commands, ["id"]).returning(commands.c.id)
    inserted = set(connection.execute(inserting, [_row(command) for command in first.values()]).scalars())
    earlier = {command.id for command in new if command.id not in inserted}
    stored = (
        {row.id: row for row in connection.execute(select(commands).where(commands.c.id.in_(earlier)))}
        if earlier
        else {}
    )
    results: list[Receipt | CommandIdConflict] = []
    seen: set[str] = set()
    for command in new:
        if command.id in inserted and command.id not in seen:
            seen.add(command.id)
            results.append(Receipt(command.id, command.aggregate_id, command.partition, PENDING, new=True))
            continue
        row = stored.get(command.id) or first[command.id]
        if not command.same_as(row):
            results.append(
                CommandIdConflict(f"command id {command.id} was already used for a different command")
            )
            continue
        status = getattr(row, "status", PENDING)
        results.append(Receipt(command.id, row.aggregate_id, row.partition, status, new=False))
    return results


def _row(command: NewCommand) -> dict[str, Any]:
    return {
        "id": command.id,
        "type": command.type,
        "aggregate_type": command.aggregate_type,
        "aggregate_id": command.aggregate_id,
        "partition": command.partition,
        "payload": command.payload,
        "status": PENDING,
        "attempts": 0,
        "actor": command.actor.subject,
        "actor_credential": command.actor.credential,
        "actor_roles": list(command.actor.roles),
        "correlation_id": command.correlation_id or command.id,
        "causation_id": command.causation_id,
        "submitted_at": command.submitted_at,
    }


def withdraw(connection: Connection, command_ids: Sequence[str]) -> set[str]:
    """Remove the commands that are still pending, as if they had never been recorded; returns
    the ids removed."""
    deleted = connection.execute(
        delete(commands)
        .where(commands.c.id.in_(command_ids), commands.c.status == PENDING)
        .returning(commands.c.id)
    )
    return set(deleted.scalars())


def get(connection: Connection, command_id: str) -> Row[Any] | None:
    return connection.execute(select(commands).where(commands.c.id == command_id)).first()


def pending(connection: Connection, aggregate_ids: Sequence[str], limit: int) -> Sequence[Row[Any]]:
    """The oldest pending commands of these aggregates, in the order they were recorded."""
    return connection.execute(
        select(commands)
        .where(commands.c.aggregate_id.in_(aggregate_ids), commands.c.status == PENDING)
        .order_by(commands.c.seq)
        .limit(limit)
    ).all()


def waiting(connection: Connection, partition: int, limit: int) -> Sequence[Row[Any, Any]]:
    """The partition's oldest pending commands (aggregate and tries only), oldest first."""
    return connection.execute(
        select(commands.c.aggregate_id, commands.c.attempts)
        .where(commands.c.partition == partition, commands.c.status == PENDING)
        .order_by(commands.c.seq)
        .limit(limit)
    ).all()


_complete = (
    update(commands)
    .where(commands.c.seq == bindparam("outcome_seq"), commands.c.status == PENDING)
    .values(
        status=bindparam("outcome_status"),
        error=bindparam("outcome_error"),
        position=bindparam("outcome_position"),
        completed_at=bindparam("at"),
    )
)


def complete(connection: Connection, outcomes: Sequence[Outcome], completed_at: datetime) -> None:
    if outcomes:
        connection.execute(
            _complete,
            [
                {
                    "outcome_seq": o.seq,
                    "outcome_status": o.status,
                    "outcome_error": o.error,
                    "outcome_position": o.position,
                    "at": completed_at,
                }
                for o in outcomes
            ],
        )


def by_seq(connection: Connection, seqs: Sequence[int]) -> Sequence[Row[Any]]:
    return connection.execute(select(commands).where(commands.c.seq.in_(seqs))).all()


def count_attempt(
    connection: Connection, seqs: Sequence[int], max_attempts: int, completed_at: datetime
) -> int:
    """Count a failed try at these pending commands; fail those out of tries. Returns how many."""
    connection.execute(
        update(commands)
        .where(commands.c.seq.in_(seqs), commands.c.status == PENDING)
        .values(attempts=commands.c.attempts + 1)
    )
    failed = connection.execute(
        update(commands)
        .where(commands.c.seq.in_(seqs), commands.c.status == PENDING, commands.c.attempts >= max_attempts)
        .values(
            status=FAILED,
            error=f"could not be handled after {max_attempts} attempts",
            completed_at=completed_at,
        )
    )
    return failed.rowcount


def stale_partitions(connection: Connection, submitted_before: datetime) -> list[int]:
    """Partitions with a command still pending since before `submitted_before`."""
    rows = connection.execute(
        select(commands.c.partition)
        .where(commands.c.status == PENDING, commands.c.submitted_at < submitted_before)
        .group_by(commands.c.partition)
        .order_by(func.min(commands.c.seq))
    )
    return [row.partition for row in rows]


def listed(
    connection: Connection, status: str | None = None, aggregate_id: str | None = None, limit: int = 50
) -> Sequence[Row[Any]]:
    """The newest commands first, of one status and one aggregate if asked."""
    query = select(commands).order_by(commands.c.seq.desc()).limit(limit)
    if status is not None:
        query = query.where(commands.c.status == status)
    if aggregate_id is not None:
        query = query.where(commands.c.aggregate_id == aggregate_id)
    return connection.execute(query).all()


def retries(connection: Connection, command_id: str) -> Sequence[Row[Any]]:
    """Each time the command was put back in its mailbox, oldest first."""
    query = select(command_retries).where(command_retries.c.command_id == command_id)
    return connection.execute(query.order_by(command_retries.c.id)).all()


def retry(connection: Connection, command_id: str, by: str, at: datetime) -> Row[Any]:
    """Put a FAILED command back in its aggregate's mailbox as PENDING with no attempts, and record
    who did it, when, and how it had ended; returns the command as it was.

    It keeps its place (`seq`): it is handled before the aggregate's commands still pending that
    were recorded after it, and after those already handled. The status only moves from FAILED,
    in one statement, so two retries of one command put it back once.
    """
    row = get(connection, command_id)
    if row is None:
        raise UnknownCommand(f"no command {command_id}")
    if row.status != FAILED:
        why = " (a rejection is the domain's answer; send a new command)" if row.status == REJECTED else ""
        raise NotRetryable(f"command {command_id} is {row.status}{why}; only a FAILED command can be retried")
    appended = select(events.c.position).where(events.c.command_id == command_id).limit(1)
    if connection.execute(appended).first():
        raise NotRetryable(f"command {command_id} has events; handling it again could repeat them")
    moved = connection.execute(
        update(commands)
        .where(commands.c.id == command_id, commands.c.status == FAILED)
        .values(status=PENDING, attempts=0, error=None, completed_at=None, position=None)
    )
    if moved.rowcount != 1:
        raise NotRetryable(f"command {command_id} was retried by someone else meanwhile")
    connection.execute(
        command_retries.insert().values(
            command_id=command_id,
            retried_by=by,
            retried_at=at,
            previous_error=row.error,
            previous_attempts=row.attempts,
            previous_completed_at=row.completed_at,
        )
    )
    return row


def depths(connection: Connection) -> dict[int, int]:
    """Pending commands per partition, for the partitions that have any."""
    rows = connection.execute(
        select(commands.c.partition, func.count())
        .where(commands.c.status == PENDING)
        .group_by(commands.c.partition)
        .order_by(commands.c.partition)
    )
    return {partition: count for partition, count in rows}


def pending_floor(connection: Connection) -> int:
    """The `seq` of the oldest pending command, or one past the newest when none is pending:
    every command below it is handled."""
    oldest = connection.execute(select(func.min(commands.c.seq)).where(commands.c.status == PENDING)).scalar()
    if oldest is not None:
        return int(oldest)
    return int(connection.execute(select(func.max(commands.c.seq))).scalar() or 0) + 1


def handled_from(connection: Connection, floor: int) -> int:
    """How many commands from `seq` `floor` on are no longer pending (reads only those rows)."""
    found = connection.execute(
        select(func.count()).where(commands.c.seq >= floor, commands.c.status != PENDING)
    ).scalar_one()
    return int(found)


def _read(command_type: str, payload: dict[str, Any]) -> Any:
    """The payload as the command it decodes to (itself, for a type no aggregate registers or a
    payload that does not decode)."""
    found = registry.COMMANDS.get(command_type)
    if found is None:
        return payload
    try:
        return from_json(found[0], {**payload, "at": None})
    except (TypeError, ValueError, KeyError):
        return payload
