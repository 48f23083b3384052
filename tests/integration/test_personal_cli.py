"""`eventshop customers export` and `eventshop keys rotate` on a store holding a customer: the
export opens its personal data; a rotation rewraps every key, after which the old master key can go."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from domain.customer import RegisterCustomer
from eventshop.cli import app
from store import db, personal
from tests.config import config
from tests.integration.helpers import drain_all, outcome, record
from workers import projector
from workers.projections import PROJECTIONS

AT = datetime(2026, 5, 1, tzinfo=UTC)


def text(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def registered(master: personal.MasterKeys) -> str:
    """A customer registered as the API records one: its values sealed with its new key."""
    customer_id = str(uuid.uuid4())
    with db.writing(config().database_url) as connection:
        key = personal.key_for_new(connection, master, customer_id, AT)
    sealed = personal.seal_fields(
        {"name": "Grace Hopper", "email": "grace@example.com", "address": None},
        ("name", "email"),
        key,
        customer_id,
    )
    command = RegisterCustomer(customer_id, sealed["name"], sealed["email"], None, "grace", AT)
    assert outcome(record(command)) == ("PENDING", None)
    drain_all()
    projector.catch_up_all(config(), list(PROJECTIONS))
    return customer_id


def test_export_opens_the_data_and_a_rotation_retires_the_old_master_key(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    monkeypatch.setenv("EVENTSHOP_MASTER_KEY", text(old))
    customer_id = registered(personal.MasterKeys(old))
    runner = CliRunner()

    exported = runner.invoke(app, ["customers", "export", customer_id])
    assert exported.exit_code == 0, exported.output
    document = json.loads(exported.output)
    assert document["customer"]["name"] == "Grace Hopper"
    assert document["events"][0]["data"]["email"] == "grace@example.com"
    assert runner.invoke(app, ["customers", "export", str(uuid.uuid4())]).exit_code == 1

    monkeypatch.setenv("EVENTSHOP_MASTER_KEY", text(new))
    unknown = runner.invoke(app, ["customers", "export", customer_id])
    assert unknown.exit_code == 2 and "EVENTSHOP_OLD_MASTER_KEYS" in unknown.output
    monkeypatch.setenv("EVENTSHOP_OLD_MASTER_KEYS", text(old))
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "1 data keys wrapped" in rotated.output, rotated.output
    monkeypatch.delenv("EVENTSHOP_OLD_MASTER_KEYS")
    after = runner.invoke(app, ["customers", "export", customer_id])
    assert after.exit_code == 0 and json.loads(after.output)["customer"]["name"] == "Grace Hopper"


def test_a_master_key_that_is_not_32_bytes_stops_the_command(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSHOP_MASTER_KEY", "too-short")
    result = CliRunner().invoke(app, ["keys", "rotate"])
    assert result.exit_code == 2 and "EVENTSHOP_MASTER_KEY must be 32 bytes" in result.output
