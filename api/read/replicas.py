"""Reads spread over PostgreSQL streaming replicas (`DATABASE_READ_URL`, one or several).

A read that must reflect a position — a `consistentWith` token, which `require` notes for the
request — is served by a replica whose checkpoint of that read model has passed it (replay only
moves forward, so one look is enough), else by the primary. Any other read goes to a healthy
replica, in turn: one that answers and is at most `EVENTSHOP_REPLICA_MAX_LAG` events behind the
primary (checked every second); with none, the primary. A replica that fails mid-choice is
skipped for that read. The watcher's reads behind `wait:`, the mailbox and credentials always
read the primary.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from store import db, eventstore, logs, metrics
from store.schema import projections

log = logs.get(__name__)

ALL = "*"  # every read model
HEAD = "@head"  # the event store itself
_floor: ContextVar[tuple[str, int] | None] = ContextVar("read_floor", default=None)
_spread: dict[str, Replicas] = {}  # by primary URL, for the API process


@dataclass
class Replica:
    url: str
    healthy: bool = False
    lag: int | None = None  # events behind the primary at the last check
    error: str | None = None


class Replicas:
    def __init__(self, primary: str, urls: tuple[str, ...], max_lag: int) -> None:
        self.primary, self.max_lag = primary, max_lag
        self.replicas = [Replica(_bounded(url)) for url in urls]
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def check(self) -> None:
        """Look at every replica: reachable, and how far behind the primary's head."""
        with db.reading(self.primary) as connection:
            head = eventstore.head(connection)
        for replica in self.replicas:
            try:
                with db.reading(replica.url) as connection:
                    replica.lag = max(head - eventstore.head(connection), 0)
                replica.error = None
                replica.healthy = replica.lag <= self.max_lag
            except DBAPIError as error:
                self.down(replica, error)

    def down(self, replica: Replica, error: Exception) -> None:
        if replica.healthy:
            log.warning("replica unreachable; reading elsewhere", replica=_safe(replica.url))
        replica.healthy, replica.lag = False, None
        replica.error = type(error).__name__

    def pick(self) -> Replica | None:
        healthy = [r for r in self.replicas if r.healthy]
        if not healthy:
            return None
        with self._lock:
            return healthy[next(self._turn) % len(healthy)]

    def status(self) -> str | dict[str, Any]:
        """ "ok", or what is wrong with each replica that is not (for `/readyz`)."""
        degraded = {
            _safe(r.url): r.error or f"{r.lag} events behind (at most {self.max_lag})"
            for r in self.replicas
            if not r.healthy
        }
        return {"degraded": degraded} if degraded else "ok"


def configure(replicas: Replicas) -> None:
    _spread[replicas.primary] = replicas


def forget(primary: str) -> None:
    _spread.pop(primary, None)


def spread(primary: str) -> Replicas | None:
    return _spread.get(primary)


def require(projection: str, position: int) -> None:
    """The reads that follow must reflect `position` of `projection` (ALL: of every read model;
    HEAD: of the event store)."""
    _floor.set((projection, position))


def anew() -> None:
    """A new request: nothing required yet."""
    _floor.set(None)


@contextmanager
def reading(url: str) -> Iterator[Connection]:
    """A read connection: a fresh enough replica's when there is one, else the primary's (`url`)."""
    with ExitStack() as stack:
        connection = _replica_connection(stack, url)
        metrics.READS.labels("primary" if connection is None else "replica").inc()
        yield connection if connection is not None else stack.enter_context(db.reading(url))


def _replica_connection(stack: ExitStack, url: str) -> Connection | None:
    replicas = _spread.get(url)
    replica = None if replicas is None else replicas.pick()
    if replicas is None or replica is None:
        return None
    attempt = ExitStack()
    try:
        connection = attempt.enter_context(db.reading(replica.url))
        if _passed(connection, _floor.get()):
            stack.push(attempt.pop_all())
            return connection
    except DBAPIError as error:
        replicas.down(replica, error)
    attempt.close()
    return None


def _passed(connection: Connection, floor: tuple[str, int] | None) -> bool:
    if floor is None:
        return True
    projection, position = floor
    if projection == HEAD:
        return eventstore.head(connection) >= position
    query = select(func.min(projections.c.position))
    if projection != ALL:
        query = query.where(projections.c.name == projection)
    reached = connection.execute(query).scalar()
    return reached is not None and reached >= position


def _bounded(url: str) -> str:
    """A replica's URL with a connect timeout (2 s) and a statement timeout (30 s), unless given:
    a replica that stops answering must not hold a read, or the checks, for long."""
    from sqlalchemy.engine import make_url

    found = make_url(db.normalise_url(url))
    query = {"connect_timeout": "2", "options": "-c statement_timeout=30000", **found.query}
    return found.update_query_dict(query).render_as_string(hide_password=False)


def _safe(url: str) -> str:
    """A replica's URL without its password, for logs and `/readyz`."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
