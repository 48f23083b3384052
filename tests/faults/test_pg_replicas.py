"""Reads from a real PostgreSQL streaming replica (DATABASE_READ_URL), its replay paused to prove
each rule: a read without a token is served by the replica; one with `consistentWith` never sees
it stale (the primary serves it until the replica has passed the token, then the replica does);
a replica that falls too far behind, or goes down, is skipped and shown by `/readyz` as degraded
while the API stays ready."""

from __future__ import annotations

import json
import os
import re
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from store import db, eventstore, settings
from tests.config import config
from tests.conftest import free_port
from tests.e2e.client import wait_for
from tests.faults.replica import Replica
from tests.integration.helpers import create, drain_all, record
from tests.served import served
from workers import projector

PRODUCT = "query($id: ID!, $token: String) { product(id: $id, consistentWith: $token) { id } }"


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    started = Replica(os.environ["DATABASE_URL"], free_port())
    started.start()
    try:
        yield started
    finally:
        started.stop()
        started.remove()


def post(url: str, query: str, **variables: Any) -> Any:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def readiness_saying(base: str, words: str) -> tuple[int, str]:
    """`/readyz`'s status and body once the body mentions `words` (within 10 s)."""

    def saying() -> tuple[int, str] | None:
        answer = get(f"{base}/readyz")
        return answer if words in answer[1] else None

    found: tuple[int, str] = wait_for(saying, 10, f"/readyz to say {words}")
    return found


def replica_reads(base: str) -> float:
    found = re.search(r'eventshop_reads_total\{source="replica"\} ([0-9.e+]+)', get(f"{base}/metrics")[1])
    return float(found.group(1)) if found else 0.0


def created(amount: int = 100) -> tuple[str, str]:
    """A product created and projected on the primary; its id and the consistency token."""
    product_id = str(uuid.uuid4())
    record(create(product_id, sku=f"REP-{product_id[:8].upper()}", amount=amount))
    drain_all()
    projector.catch_up_all(config(), projector.names())
    with db.reading(config().database_url) as connection:
        return product_id, str(eventstore.head(connection))


def caught_up(replica: Replica, database: str) -> bool:
    with db.reading(config().database_url) as primary, db.reading(replica.url(database)) as copy:
        return eventstore.head(primary) == eventstore.head(copy)


def test_reads_go_to_the_replica_and_never_stale_with_a_token(
    database: str, broker: str, replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = str(make_url(database).database)
    monkeypatch.setenv("DATABASE_READ_URL", replica.url(name))
    monkeypatch.setenv("BROKER_URL", broker)
    wait_for(lambda: caught_up(replica, name), 30, "the replica to replay the empty database")
    with served(settings.load()) as url:
        base = url.removesuffix("/graphql")
        readiness_saying(base, '"replicas": "ok"')
        replica.pause_replay(name)
        try:
            product_id, token = created()
            assert post(url, PRODUCT, id=product_id)["data"]["product"] is None  # the replica: stale
            before = replica_reads(base)
            fresh = post(url, PRODUCT, id=product_id, token=token)["data"]["product"]
            assert fresh == {"id": product_id}  # the primary, since the replica has not passed it
            assert replica_reads(base) == before
        finally:
            replica.resume_replay(name)
        wait_for(lambda: post(url, PRODUCT, id=product_id)["data"]["product"], 30, "the replica to replay")
        before = replica_reads(base)
        assert post(url, PRODUCT, id=product_id, token=token)["data"]["product"] == {"id": product_id}
        assert replica_reads(base) > before  # now the replica has passed the token: it serves it


def test_a_replica_behind_or_down_is_skipped_and_shown_degraded(
    database: str, broker: str, replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = str(make_url(database).database)
    monkeypatch.setenv("DATABASE_READ_URL", replica.url(name))
    monkeypatch.setenv("BROKER_URL", broker)
    monkeypatch.setenv("EVENTSHOP_REPLICA_MAX_LAG", "2")
    wait_for(lambda: caught_up(replica, name), 30, "the replica to replay")
    with served(settings.load()) as url:
        base = url.removesuffix("/graphql")
        replica.pause_replay(name)
        try:
            ids = [created()[0] for _ in range(3)]  # 3 events: more than the 2 it may lag
            status, body = readiness_saying(base, "behind")
            assert status == 200 and json.loads(body)["status"] == "ready", body
            assert post(url, PRODUCT, id=ids[-1])["data"]["product"] == {"id": ids[-1]}  # the primary
        finally:
            replica.resume_replay(name)
        replica.stop()
        try:
            product_id, _token = created()
            assert post(url, PRODUCT, id=product_id)["data"]["product"] == {"id": product_id}
            status, body = readiness_saying(base, "OperationalError")
            assert status == 200, body
        finally:
            replica.start_server()
