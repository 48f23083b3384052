"""Fault tests run real processes on PostgreSQL and Redis (DATABASE_URL, BROKER_URL).

Without a PostgreSQL DATABASE_URL only the SQLite scenario is collected: the rest test
PostgreSQL behaviour and would prove nothing on SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.cluster import Cluster

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool:
    return not POSTGRES and collection_path.name.startswith("test_pg_")


@pytest.fixture
def cluster(make_database: Callable[[], str], broker: str, tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(make_database(), broker, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
