"""Fault tests run real processes on PostgreSQL and Redis (DATABASE_URL, BROKER_URL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.cluster import Cluster


@pytest.fixture
def cluster(make_database: Callable[[], str], broker: str, tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(make_database(), broker, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
