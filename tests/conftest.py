"""Shared fixtures: a migrated database (SQLite or DATABASE_URL's PostgreSQL) and a Redis broker."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store import db, migrate
from store.schema import metadata
from tests import auth, processes

_skipped: list[str] = []

# Every process a test starts verifies tokens signed with the tests' secret; the rate limit is off
# but where a test turns it on (one credential sends hundreds of mutations a second here).
os.environ["EVENTSHOP_JWT_SECRET"] = auth.SECRET
os.environ["EVENTSHOP_RATE_LIMIT"] = "0"

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool:
    """`test_pg_*` files test PostgreSQL behaviour: collected only with a PostgreSQL DATABASE_URL
    (CI's second pass), since on SQLite they would prove nothing."""
    return not POSTGRES and collection_path.name.startswith("test_pg_")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_configure(config: pytest.Config) -> None:
    processes.interrupt_on_sigterm()


@pytest.hookimpl(trylast=True)  # after every fixture's teardown
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No process a test started outlives the session: what is left is killed, and named as an
    error, since a test must stop what it starts. In CI a skipped test is an error too: every
    service a test needs must be there."""
    if left := processes.kill_leftovers():
        print(f"\nthese processes were left running, and have been killed: {left}")
        session.exitstatus = session.exitstatus or 1
    if os.environ.get("CI") and _skipped:
        print(f"\nCI forbids skipped tests, but these were skipped: {_skipped}")
        session.exitstatus = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def make_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """A factory of fresh, migrated databases: PostgreSQL beside DATABASE_URL's, or SQLite files."""
    base = os.environ.get("DATABASE_URL", "")
    created: list[str] = []

    def make() -> str:
        name = f"eventshop_test_{uuid.uuid4().hex[:12]}"
        if base.startswith("postgres"):
            admin = create_engine(db.normalise_url(base), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = make_url(db.normalise_url(base)).set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / name}.db"
        created.append(name)
        migrate.upgrade(url)
        return url

    yield make
    if base.startswith("postgres"):
        for engine in list(db._engines.values()):
            engine.dispose()
        admin = create_engine(db.normalise_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def session_database(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
def database(session_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's database, emptied, and made this process's DATABASE_URL."""
    with db.writing(session_database) as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
        connection.execute(text("INSERT INTO event_head (id, position) VALUES (1, 0)"))
    monkeypatch.setenv("DATABASE_URL", session_database)
    return session_database


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """BROKER_URL when set (a Redis server in CI), else the embedded broker's redis-server on a
    local TCP port."""
    if os.environ.get("BROKER_URL"):
        yield os.environ["BROKER_URL"]
        return
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"), free_port())
    server.start()
    yield server.url
    server.kill()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """NATS_URL when set (the machine's NATS JetStream in CI), else a nats-server of the suite's own."""
    if os.environ.get("NATS_URL"):
        yield os.environ["NATS_URL"]
        return
    from tests.nats_server import NatsServer

    server = NatsServer(tmp_path_factory.mktemp("nats"), free_port())
    server.start()
    yield server.url
    server.kill()


@pytest.fixture(scope="session")
def free_redis_databases() -> list[int]:
    return list(range(1, 16))


@pytest.fixture(scope="session")
def make_broker(redis_url: str, free_redis_databases: list[int]) -> Callable[[], str]:
    """A factory of empty Redis databases, one per system, so systems never take each other's tasks."""

    def make() -> str:
        url = (
            make_url(redis_url)
            .set(database=str(free_redis_databases.pop(0)))
            .render_as_string(hide_password=False)
        )
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
        return url

    return make


@pytest.fixture
def broker(make_broker: Callable[[], str], free_redis_databases: list[int]) -> Iterator[str]:
    """An empty Redis database for one test, handed back afterwards."""
    url = make_broker()
    yield url
    free_redis_databases.append(int(make_url(url).database or 0))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
