"""Group commit in the API: one insert and one commit for concurrent mutations, each answered alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DataError

from api.graphql.errors import ConflictError, UnavailableError
from api.write import group_commit
from store import db, mailbox
from store.schema import commands
from tests.config import database_url
from tests.integration.helpers import create, new_command


class Doorbell:
    """Records the partitions it is asked to ring; the broker is not what these tests are about."""

    def __init__(self, answer: bool = True) -> None:
        self.rung: list[int] = []
        self.answer = answer

    async def ring(self, partition: int) -> bool:
        self.rung.append(partition)
        return self.answer


def recorder(doorbell: Doorbell) -> group_commit.GroupRecorder:
    return group_commit.GroupRecorder(database_url(), doorbell)  # type: ignore[arg-type]


def count_commands() -> int:
    with db.reading(database_url()) as connection:
        found: int = connection.execute(select(func.count()).select_from(commands)).scalar_one()
    return found


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every group recorded."""
    sizes: list[int] = []
    original = mailbox.record_many

    def counted(connection: Connection, new: Sequence[mailbox.NewCommand]) -> Any:
        sizes.append(len(new))
        return original(connection, new)

    monkeypatch.setattr(mailbox, "record_many", counted)
    return sizes


async def _submit_all(doorbell: Doorbell, new: list[mailbox.NewCommand]) -> list[Any]:
    recording = recorder(doorbell)
    return await asyncio.gather(*(recording.record(command) for command in new), return_exceptions=True)


def test_concurrent_mutations_share_one_insert_and_ring_each_partition_once(
    database: str, groups: list[int]
) -> None:
    new = [new_command(create(str(uuid.uuid4()), sku=f"G-{n}")) for n in range(50)]
    doorbell = Doorbell()
    receipts = asyncio.run(_submit_all(doorbell, new))
    assert [r.command_id for r in receipts] == [c.id for c in new]
    assert groups == [50]
    assert sorted(doorbell.rung) == sorted({c.partition for c in new})
    assert count_commands() == 50


def test_a_command_id_twice_in_one_group_is_one_command_and_other_input_is_a_conflict(
    database: str, groups: list[int]
) -> None:
    product_id, command_id = str(uuid.uuid4()), str(uuid.uuid4())
    same = new_command(create(product_id), command_id)
    other = new_command(create(product_id, sku="OTHER"), command_id)
    first, again, conflict = asyncio.run(_submit_all(Doorbell(), [same, same, other]))
    assert groups == [3]
    assert (first.new, again.new) == (True, False) and first.command_id == again.command_id
    assert isinstance(conflict, ConflictError)
    assert count_commands() == 1


def test_a_command_the_database_refuses_fails_alone(
    database: str, groups: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    new = [new_command(create(str(uuid.uuid4()), sku=f"R-{n}")) for n in range(5)]
    poison = new[2].id
    counted = mailbox.record_many

    def refusing(connection: Connection, batch: Sequence[mailbox.NewCommand]) -> Any:
        if any(command.id == poison for command in batch):
            raise DataError("INSERT", {}, Exception("value out of range"))
        return counted(connection, batch)

    monkeypatch.setattr(mailbox, "record_many", refusing)
    results = asyncio.run(_submit_all(Doorbell(), new))
    assert isinstance(results[2], DataError)
    assert [r.command_id for n, r in enumerate(results) if n != 2] == [
        c.id for n, c in enumerate(new) if n != 2
    ]
    assert count_commands() == 4


def test_commands_whose_partition_cannot_be_rung_are_withdrawn(database: str) -> None:
    new = [new_command(create(str(uuid.uuid4()), sku=f"W-{n}")) for n in range(3)]
    results = asyncio.run(_submit_all(Doorbell(answer=False), new))
    assert all(isinstance(r, UnavailableError) for r in results)
    assert count_commands() == 0
