"""Lost doorbells: a command recorded with no Celery message still completes, through beat (I6)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from domain.product import CreateProduct, Money
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
