"""Recording commands: once per command id (I2), with conflicts for a reused id."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from store import db, mailbox
from store.schema import commands
from tests.config import database_url
from tests.integration.helpers import create, delete, new_command, record


def test_the_same_command_id_records_once(database: str) -> None:
    product_id, command_id = str(uuid.uuid4()), str(uuid.uuid4())
    record(create(product_id), command_id)
    record(create(product_id), command_id)
    with db.reading(database_url()) as connection:
        assert connection.execute(select(func.count()).select_from(commands)).scalar_one() == 1


def test_the_same_command_id_with_another_payload_is_refused(database: str) -> None:
    product_id, command_id = str(uuid.uuid4()), str(uuid.uuid4())
    record(create(product_id, sku="A-1"), command_id)
    with pytest.raises(mailbox.CommandIdConflict):
        record(create(product_id, sku="B-2"), command_id)
    with db.reading(database_url()) as connection:
        assert connection.execute(select(commands.c.payload)).scalar_one()["sku"] == "A-1"


def test_concurrent_submissions_of_one_command_id_record_one_command(database: str) -> None:
    product_id, command_id = str(uuid.uuid4()), str(uuid.uuid4())
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda _: record(create(product_id), command_id), range(10)))
    with db.reading(database_url()) as connection:
        assert connection.execute(select(func.count()).select_from(commands)).scalar_one() == 1


def test_a_receipt_says_whether_the_command_is_new_and_withdraw_removes_only_pending(database: str) -> None:
    def submit(command_id: str) -> mailbox.Receipt:
        with db.writing(database_url()) as connection:
            return mailbox.record(connection, new_command(delete("p"), command_id))

    command_id = str(uuid.uuid4())
    assert submit(command_id).new is True
    assert submit(command_id).new is False
    with db.writing(database_url()) as connection:
        assert mailbox.withdraw(connection, [command_id]) == {command_id}
        assert mailbox.withdraw(connection, [command_id]) == set()
        assert mailbox.get(connection, command_id) is None
