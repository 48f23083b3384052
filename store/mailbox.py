"""The command mailbox: commands recorded by the API, handled per aggregate in recorded order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.schema import commands

PENDING, SUCCEEDED, REJECTED, FAILED = "PENDING", "SUCCEEDED", "REJECTED", "FAILED"


class CommandIdConflict(Exception):
    """A command id was reused with a different command."""


@dataclass(frozen=True)
class Receipt:
    command_id: str
    aggregate_id: str
    status: str
    new: bool


@dataclass(frozen=True)
class Outcome:
    seq: int
    status: str
    error: str | None = None


def record(
    connection: Connection,
    *,
    command_id: str,
    command_type: str,
    aggregate_type: str,
    aggregate_id: str,
    payload: dict[str, Any],
    submitted_at: datetime,
    actor: str = "anonymous",
    correlation_id: str | None = None,
) -> Receipt:
    """Record a PENDING command once; the same id again returns the first receipt (I2)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    inserted = connection.execute(
        dialect.insert(commands)
        .values(
            id=command_id,
            type=command_type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=payload,
            status=PENDING,
            attempts=0,
            actor=actor,
            correlation_id=correlation_id or command_id,
            submitted_at=submitted_at,
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(commands.c.seq)
    )
    if inserted.first() is not None:
        return Receipt(command_id, aggregate_id, PENDING, new=True)
    first = get(connection, command_id)
    assert first is not None
    if (first.type, first.aggregate_id, first.payload) != (command_type, aggregate_id, payload):
        raise CommandIdConflict(f"command id {command_id} was already used for a different command")
    return Receipt(command_id, first.aggregate_id, first.status, new=False)


def withdraw(connection: Connection, command_id: str) -> bool:
    """Remove a command that is still pending, as if it had never been recorded."""
    deleted = connection.execute(
        delete(commands)
        .where(commands.c.id == command_id, commands.c.status == PENDING)
        .returning(commands.c.seq)
    )
    return deleted.first() is not None


def get(connection: Connection, command_id: str) -> Row[Any] | None:
    return connection.execute(select(commands).where(commands.c.id == command_id)).first()


def pending(connection: Connection, aggregate_id: str, limit: int) -> Sequence[Row[Any]]:
    """The aggregate's oldest pending commands, in the order they were recorded."""
    return connection.execute(
        select(commands)
        .where(commands.c.aggregate_id == aggregate_id, commands.c.status == PENDING)
        .order_by(commands.c.seq)
        .limit(limit)
    ).all()


def complete(connection: Connection, outcomes: Sequence[Outcome], completed_at: datetime) -> None:
    for outcome in outcomes:
        connection.execute(
            update(commands)
            .where(commands.c.seq == outcome.seq, commands.c.status == PENDING)
            .values(status=outcome.status, error=outcome.error, completed_at=completed_at)
        )


def count_attempt(
    connection: Connection, aggregate_id: str, limit: int, max_attempts: int, completed_at: datetime
) -> int:
    """Count a failed try at the aggregate's next batch; fail those out of tries. Returns how many."""
    seqs = [row.seq for row in pending(connection, aggregate_id, limit)]
    connection.execute(
        update(commands).where(commands.c.seq.in_(seqs)).values(attempts=commands.c.attempts + 1)
    )
    failed = connection.execute(
        update(commands)
        .where(commands.c.seq.in_(seqs), commands.c.attempts >= max_attempts)
        .values(
            status=FAILED,
            error=f"could not be handled after {max_attempts} attempts",
            completed_at=completed_at,
        )
    )
    return failed.rowcount


def stale_aggregates(connection: Connection, submitted_before: datetime) -> list[str]:
    """Aggregates with a command still pending since before `submitted_before`."""
    rows = connection.execute(
        select(commands.c.aggregate_id)
        .where(commands.c.status == PENDING, commands.c.submitted_at < submitted_before)
        .group_by(commands.c.aggregate_id)
        .order_by(func.min(commands.c.seq))
    )
    return [row.aggregate_id for row in rows]
