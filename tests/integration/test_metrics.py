"""Metrics and readiness over real HTTP: every family is exposed, counters move with traffic, lag
rises while a projection is halted, and `/readyz` follows the broker down and back up."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from store import db, settings
from store.schema import projections
from tests import auth
from tests.conftest import free_port
from tests.integration.helpers import create, drain_all, record
from tests.redis_server import RedisServer
from tests.served import served
from workers import projector

FAMILIES = {
    "eventshop_graphql_requests",
    "eventshop_graphql_request_duration_seconds",
    "eventshop_graphql_requests_in_flight",
    "eventshop_waits",
    "eventshop_commands",
    "eventshop_command_handle_duration_seconds",
    "eventshop_command_batch_size",
    "eventshop_events_appended",
    "eventshop_events_projected",
    "eventshop_event_store_head",
    "eventshop_projection_position",
    "eventshop_projection_lag_events",
    "eventshop_projection_lag_seconds",
    "eventshop_projection_halted",
    "eventshop_mailbox_depth",
}


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = get(base + "/metrics")
    assert status == 200
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert set(families) >= FAMILIES, FAMILIES - set(families)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families.values()
        for sample in family.samples
    }


def mutate(url: str, sku: str) -> None:
    body = json.dumps(
        {
            "query": 'mutation Create($sku: String!) { createProduct(input: {sku: $sku, name: "M",'
            ' price: {amount: 1, currency: "EUR"}}) { status } }',
            "variables": {"sku": sku},
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {auth.token()}"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert "errors" not in json.loads(response.read())


def invalid(url: str) -> int:
    """Sends a query that fails validation (no `id`); returns the status it was answered with."""
    body = json.dumps({"query": '{ product(version: 0, consistentWith: "") { id } }'}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["errors"]
        return int(response.status)


def test_every_family_is_exposed_and_counters_move_with_traffic(database: str, broker: str) -> None:
    with served(settings.load({**os.environ, "DATABASE_URL": database, "BROKER_URL": broker})) as url:
        base = url.removesuffix("/graphql")
        projector.catch_up_all(settings.load(), projector.names())
        before = scrape(base)
        mutate(url, "MET-1")
        assert invalid(url) == 200
        drain_all(settings.load().partitions)
        projector.catch_up_all(settings.load(), projector.names())
        after = scrape(base)

    def moved(family: str, **labels: str) -> float:
        key = (family, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert (
        moved("eventshop_graphql_requests_total", operation="mutation", outcome="ok", client="unknown") == 1
    )
    assert moved("eventshop_graphql_request_duration_seconds_count", operation="mutation") == 1
    assert moved("eventshop_graphql_operation_duration_seconds_count", name="Create") == 1
    assert moved("eventshop_graphql_operation_duration_seconds_count", name="anonymous") == 1
    assert (
        moved("eventshop_graphql_requests_total", operation="unknown", outcome="errors", client="unknown")
        == 1
    )
    assert moved("eventshop_commands_total", type="CreateProduct", status="SUCCEEDED") == 1
    assert moved("eventshop_events_appended_total") == 1
    assert moved("eventshop_events_projected_total", projection="products") == 1
    for stage in ("record", "queue", "lock", "decide", "commit"):  # notify: the Celery task's (e2e)
        assert moved("eventshop_command_stage_seconds_count", stage=stage) == 1, stage
    assert moved("eventshop_event_projected_seconds_count", projection="products") == 1
    assert after[("eventshop_projection_lag_events", (("projection", "products"),))] == 0
    assert after[("eventshop_projection_halted", (("projection", "products"),))] == 0


def test_lag_rises_while_a_projection_is_halted_and_readyz_says_so(database: str, broker: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker, "EVENTSHOP_READY_MAX_LAG": "2"}
    with served(settings.load(env)) as url:
        base = url.removesuffix("/graphql")
        projector.catch_up_all(settings.load(), projector.names())
        assert get(base + "/readyz")[0] == 200
        with db.writing(database) as connection:
            connection.execute(
                update(projections).where(projections.c.name == "products").values(status="HALTED")
            )
        for _ in range(3):
            record(create(str(uuid.uuid4()), sku=f"LAG-{uuid.uuid4().hex[:6].upper()}"))
        drain_all()
        projector.catch_up_all(settings.load(), projector.names())
        found = scrape(base)
        assert found[("eventshop_projection_lag_events", (("projection", "products"),))] == 3
        assert found[("eventshop_projection_lag_seconds", (("projection", "products"),))] > 0
        assert found[("eventshop_projection_halted", (("projection", "products"),))] == 1
        assert found[("eventshop_projection_lag_events", (("projection", "product_prices"),))] == 0
        status, body = get(base + "/readyz")
        assert status == 503
        checks: dict[str, Any] = json.loads(body)
        assert checks["projections"]["halted"] == ["products"]
        assert checks["projections"]["lagging"] == {"products": 3}
        assert (checks["database"], checks["broker"]) == ("ok", "ok")


def test_readyz_follows_the_broker_down_and_back_up(database: str, tmp_path: Path) -> None:
    server = RedisServer(tmp_path, free_port())
    server.start()
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": server.url}
    with served(settings.load(env)) as url:
        base = url.removesuffix("/graphql")
        assert get(base + "/readyz")[0] == 200
        server.kill()
        status, body = get(base + "/readyz")
        assert (status, json.loads(body)["broker"]) == (503, "unreachable")
        assert get(base + "/healthz")[0] == 200  # alive all the same
        server.start()
        assert get(base + "/readyz")[0] == 200
    server.kill()
