"""The all-in-one command on SQLite under concurrent load: no "database is locked", nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from store import db
from store.schema import commands
from tests.conftest import free_port
from tests.e2e.client import Client, running_system, wait_for
from tests.e2e.documents import CREATE, PRICE

pytestmark = pytest.mark.backend_independent  # SQLite, whatever DATABASE_URL says


def test_eventshop_up_on_sqlite_under_concurrent_load(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL")}
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    url = f"sqlite:///{data_dir / 'eventshop.db'}"
    with running_system(env, free_port(), data_dir, log) as api:

        def shopper(n: int) -> list[str]:
            receipt: dict[str, Any] = api.data(
                CREATE,
                input={
                    "sku": f"LOAD-{n}-{uuid.uuid4().hex[:6].upper()}",
                    "name": "Load",
                    "price": {"amount": 1, "currency": "EUR"},
                },
            )["createProduct"]
            ids = [receipt["commandId"]]
            for k in range(4):
                change = {"id": receipt["aggregateId"], "price": {"amount": 2 + k, "currency": "EUR"}}
                ids.append(api.data(PRICE, input=change)["changeProductPrice"]["commandId"])
            return ids

        with ThreadPoolExecutor(8) as pool:
            submitted = [command_id for ids in pool.map(shopper, range(40)) for command_id in ids]
        assert len(submitted) == 200

        def settled() -> bool:
            with db.reading(url) as connection:
                done = connection.execute(
                    select(func.count()).select_from(commands).where(commands.c.status == "SUCCEEDED")
                ).scalar_one()
            return bool(done == 200)

        wait_for(settled, 120, "all 200 commands to succeed")
        wait_for(lambda: _at_head(api), 120, "the products to be projected")
    assert "database is locked" not in log.read_text()
    result = subprocess.run(
        [sys.executable, "-m", "eventshop", "verify"],
        env={**env, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _at_head(api: Client) -> bool:
    page = api.data("{ products(first: 100) { totalCount edges { node { version } } } }")["products"]
    return bool(page["totalCount"] == 40 and all(edge["node"]["version"] == 5 for edge in page["edges"]))
