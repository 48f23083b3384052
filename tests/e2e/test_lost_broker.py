"""Lost doorbells: a command recorded with no Celery message still completes, through beat (I6)."""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from domain.money import Money
from domain.product import CreateProduct
from tests import processes
from tests.conftest import free_port
from tests.e2e.client import Client, wait_for
from tests.e2e.conftest import REDELIVER_AFTER
from tests.integration.helpers import record


def test_a_command_whose_doorbell_was_lost_is_handled_by_beat(system: Client, system_database: str) -> None:
    product_id = str(uuid.uuid4())
    sku = f"LOST-{uuid.uuid4().hex[:8].upper()}"
    started = time.monotonic()
    command_id = record(
        CreateProduct(product_id, sku, "Lost bell", "", Money(1, "EUR"), datetime.now(UTC)),
        url=system_database,
    )
    assert system.settled(command_id, timeout=10 * REDELIVER_AFTER)["status"] == "SUCCEEDED"
    assert time.monotonic() - started >= REDELIVER_AFTER * 0.9
    wait_for(lambda: system.product(product_id), 10 * REDELIVER_AFTER, "the product to be projected")


def test_with_the_broker_unreachable_a_mutation_fails_fast_and_records_nothing(
    make_database: Callable[[], str], tmp_path: Path
) -> None:
    """On a database of its own: on the running system's, its beat handled the command before the
    API could withdraw it (the race a slow log line once opened)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": make_database(), "BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    with (tmp_path / "web.log").open("wb") as log:
        web = processes.start(
            [sys.executable, "-m", "eventshop", "web", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    try:
        api = Client(f"http://127.0.0.1:{port}")
        wait_for(lambda: _answers(api), 60, "the API")
        command_id = str(uuid.uuid4())
        mutation = """mutation($id: ID!) { createProduct(input: {commandId: $id, sku: "DOWN-1", name: "Jar",
            price: {amount: 1, currency: "EUR"}}) { commandId } }"""
        started = time.monotonic()
        body = api.gql(mutation, id=command_id)
        assert time.monotonic() - started < 10
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "nothing was recorded" in error["message"]
        assert api.command(command_id) is None
    finally:
        processes.signal_group(web, signal.SIGTERM)
        web.wait(30)


def _answers(client: Client) -> bool:
    try:
        return client.request("GET", "/healthz")[0] == 200
    except OSError:
        return False
