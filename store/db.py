"""Engines and transactions: one engine per process and URL, never shared across fork(). JSON
columns are read with orjson (the event store's hot path).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Insert, NullPool, Table, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

REQUIRED_TABLES = {"alembic_version", "events", "commands", "projections"}

_engines: dict[tuple[int, str], Engine] = {}


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain `postgres://` and `postgresql://` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": 30, "isolation_level": None}, json_deserializer=orjson.loads
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # Writers take the lock up front: a read-then-write transaction must not fail later (I3).
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def engine(url: str) -> Engine:
    """This process's engine for `url`."""
    url = normalise_url(url)
    key = (os.getpid(), url)
    if key not in _engines:
        if url.startswith("sqlite"):
            _engines[key] = _sqlite_engine(url)
        else:
            _engines[key] = create_engine(
                url, pool_pre_ping=True, pool_size=5, max_overflow=5, json_deserializer=orjson.loads
            )
    return _engines[key]


def dispose(url: str) -> None:
    """Close this process's engine for `url` and forget it (before its SQLite file is deleted)."""
    found = _engines.pop((os.getpid(), normalise_url(url)), None)
    if found is not None:
        found.dispose()


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def insert_new(connection: Connection, table: Table, key: list[str]) -> Insert:
    """An INSERT into `table` that skips the rows whose `key` is already there."""
    dialect: Any = postgresql if is_postgres(connection) else sqlite
    inserting: Insert = dialect.insert(table).on_conflict_do_nothing(index_elements=key)
    return inserting


@contextmanager
def writing(url: str) -> Iterator[Connection]:
    """A write transaction, committed on success and rolled back on error."""
    found = engine(url)
    with writer_turn(found), found.connect() as connection, connection.begin():
        yield connection


@contextmanager
def writer_turn(found: Engine) -> Iterator[None]:
    """On SQLite, wait for the writers' file lock before `BEGIN IMMEDIATE`, and hold it until the
    commit. SQLite's own busy handler polls with sleeps of up to 100 ms, so under several writing
    processes the write lock sits idle between holders; a blocked `flock` wakes as soon as it is
    free. SQLite's lock still guards correctness; this only hands it over promptly."""
    database = found.url.database if found.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}-writer", "a+b") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(turn, fcntl.LOCK_UN)


@contextmanager
def reading(url: str) -> Iterator[Connection]:
    """For reads: autocommit statements on PostgreSQL (one round trip each); on SQLite a deferred
    transaction, which never blocks writers."""
    found = engine(url)
    if found.dialect.name == "postgresql":
        with found.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
        return
    with found.connect().execution_options(readonly=True) as connection, connection.begin():
        yield connection


def lock_key(connection: Connection, key: str) -> None:
    """Hold a lock on `key` until the transaction ends (SQLite's write lock already covers it)."""
    lock_keys(connection, [key])


_LOCK_KEYS = text(
    "SELECT pg_advisory_xact_lock(h) FROM"
    " (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS s"
)


def lock_keys(connection: Connection, keys: list[str]) -> None:
    """Hold locks on all `keys` until the transaction ends, taken in one global order so that two
    holders of overlapping sets cannot deadlock (SQLite's write lock already covers them)."""
    if is_postgres(connection) and keys:
        connection.execute(_LOCK_KEYS, {"keys": keys})


def ping(url: str) -> None:
    with reading(url) as connection:
        connection.execute(text("SELECT 1"))


def missing(url: str) -> str | None:
    """Why `url` holds no eventshop database (one line), or None when it does. Creates nothing."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.is_file():
            return f"no eventshop database in {path.parent} (no {path.name} there)"
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
                found = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as error:
            return f"{path} is not a SQLite database eventshop can read ({error})"
    else:
        probe = create_engine(parsed, poolclass=NullPool, connect_args={"connect_timeout": 5})
        try:
            found = set(inspect(probe).get_table_names())
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0]
            return f"cannot reach the database at {parsed.render_as_string()}: {reason}"
        finally:
            probe.dispose()
    if not found >= REQUIRED_TABLES:
        return f"{parsed.render_as_string()} holds no eventshop tables; run `eventshop migrate` first"
    return None
