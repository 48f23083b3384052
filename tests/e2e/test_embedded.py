"""The Quick start's system: `eventshop up` with no servers, then Ctrl-C stops every process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.client import running_system, wait_for

pytestmark = pytest.mark.backend_independent  # the embedded default, whatever DATABASE_URL says


def test_up_on_the_embedded_default_serves_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL")}
    data_dir = tmp_path / "data"
    with running_system(env, free_port(), data_dir, tmp_path / "up.log") as system:
        mutation = """mutation { createProduct(input: {sku: "EMB-1", name: "Plate",
            price: {amount: 500, currency: "EUR"}}) { commandId aggregateId } }"""
        receipt = system.data(mutation)["createProduct"]
        assert system.settled(receipt["commandId"])["status"] == "SUCCEEDED"
        wait_for(lambda: system.product(receipt["aggregateId"]), 60, "the product")
    assert system.stopped_cleanly, "a process of eventshop up outlived Ctrl-C"
    assert "SIGKILL" not in (tmp_path / "up.log").read_text(), "a process had to be killed"
    assert (data_dir / "eventshop.db").exists()
    assert (data_dir / "broker").is_dir()
