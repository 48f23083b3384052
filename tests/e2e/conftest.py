"""The system under test: `eventshop up` on the session's database and broker."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import free_port
from tests.e2e.client import Client, running_system

REDELIVER_AFTER = 2


@pytest.fixture(scope="session")
def system_database(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture(scope="session")
def system(
    system_database: str, make_broker: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Client]:
    folder = tmp_path_factory.mktemp("system")
    env = {
        **os.environ,
        "DATABASE_URL": system_database,
        "BROKER_URL": make_broker(),
        "EVENTSHOP_REDELIVER_AFTER": str(REDELIVER_AFTER),
    }
    with running_system(env, free_port(), folder / "data", folder / "up.log") as client:
        yield client
