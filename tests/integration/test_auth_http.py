"""Authentication and authorization over real HTTP and WebSocket, against the API app: who may
read and write, what a refusal looks like, that a refusal records nothing, and who is recorded."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import redis
from sqlalchemy import func, select

from store import api_keys, db, schema, settings
from store.schema import commands, events
from tests import auth
from tests.integration.helpers import drain_all
from tests.served import served

CREATE = """mutation($sku: String!) { createProduct(input: {sku: $sku, name: "Mug",
    price: {amount: 100, currency: "EUR"}}) { commandId aggregateId } }"""
READ = "{ products(first: 1) { pageInfo { hasNextPage } } }"


@pytest.fixture
def api(database: str, broker: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with served(settings.load({**os.environ, "DATABASE_URL": database, "BROKER_URL": broker})) as url:
        yield url


def post(
    url: str, query: str, credential: str | None = None, **variables: Any
) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"}
    if credential is not None:
        headers["Authorization"] = f"Bearer {credential}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def recorded(database: str) -> tuple[int, int]:
    with db.reading(database) as connection:
        found = connection.execute(select(func.count()).select_from(commands)).scalar_one()
        appended = connection.execute(select(func.count()).select_from(events)).scalar_one()
    return found, appended


def test_a_mutation_without_a_credential_is_401_with_a_challenge_and_records_nothing(
    api: str, database: str
) -> None:
    status, headers, body = post(api, CREATE, sku="AUTH-1")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer realm="eventshop"'
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert recorded(database) == (0, 0)


def test_a_bad_token_is_401_even_for_a_read_and_reads_are_anonymous_by_default(api: str) -> None:
    status, headers, body = post(api, READ, credential=auth.token(exp=datetime(2020, 1, 1, tzinfo=UTC)))
    assert status == 401
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    assert body["errors"][0]["message"] == "the token has expired"
    assert post(api, READ)[0] == 200


def test_authenticated_reads_refuse_anonymous_ones(database: str, broker: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker, "EVENTSHOP_READS": "authenticated"}
    with served(settings.load(env)) as url:
        assert post(url, READ)[0] == 401
        assert post(url, READ, credential=auth.token("reader", ()))[0] == 200


def test_a_credential_without_the_role_is_forbidden_and_records_nothing(api: str, database: str) -> None:
    viewer = auth.token("viewer", ("catalog:read",))
    status, _headers, body = post(api, CREATE, credential=viewer, sku="AUTH-2")
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["message"] == "this needs the catalog:write role"
    assert recorded(database) == (0, 0)


def test_the_actor_is_recorded_with_the_command_and_in_its_events(api: str, database: str) -> None:
    alice = auth.token("alice", ("catalog:write",))
    status, _headers, body = post(api, CREATE, credential=alice, sku="AUTH-3")
    assert status == 200 and "errors" not in body, body
    receipt = body["data"]["createProduct"]
    drain_all(settings.load().partitions)
    query = """query($id: ID!, $stream: ID!) { command(id: $id) { actor status }
        events(streamId: $stream) { edges { node { metadata } } } }"""
    _status, _headers, body = post(api, query, id=receipt["commandId"], stream=receipt["aggregateId"])
    assert body["data"]["command"] == {"actor": "alice", "status": "SUCCEEDED"}
    [edge] = body["data"]["events"]["edges"]
    actor = {"subject": "alice", "credential": "jwt", "roles": ["catalog:write"]}
    assert edge["node"]["metadata"]["actor"] == actor


def test_an_api_key_works_until_revoked_then_is_refused_within_a_second(api: str, database: str) -> None:
    with db.writing(database) as connection:
        key = api_keys.create(connection, "importer", ("catalog:write",), datetime.now(UTC))
    status, _headers, body = post(api, CREATE, credential=key, sku="AUTH-4")
    assert status == 200 and "errors" not in body, body
    with db.reading(database) as connection:
        row = connection.execute(select(commands)).one()
        stored = connection.execute(select(schema.api_keys.c.key_hash)).scalar_one()
    assert (row.actor, row.actor_credential, row.actor_roles) == ("importer", "apikey", ["catalog:write"])
    assert key not in stored and stored == api_keys.digest(key)
    with db.writing(database) as connection:
        api_keys.revoke(connection, "importer", datetime.now(UTC))
    revoked_at = time.monotonic()
    while True:
        sent_at = time.monotonic()
        if post(api, READ, credential=key)[0] == 401:
            break
        assert sent_at - revoked_at < 1.0, "a revoked key was still accepted when sent a second after"
        time.sleep(0.05)
    assert post(api, CREATE, credential=key, sku="AUTH-5")[0] == 401
    assert post(api, READ, credential="esk_" + "x" * 43)[0] == 401
    assert recorded(database)[0] == 1


def ws_scenario(url: str, init: dict[str, Any] | None, message: dict[str, Any]) -> Any:
    """Open a graphql-transport-ws connection with `init`'s payload, send `message`, and return
    the first answer: a close code, or the JSON message received."""

    async def scenario() -> Any:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(url, protocols=("graphql-transport-ws",))
            await socket.send_json({"type": "connection_init", "payload": init})
            answer = await socket.receive(timeout=10)
            if answer.type != aiohttp.WSMsgType.TEXT:
                return socket.close_code
            assert json.loads(answer.data) == {"type": "connection_ack"}
            await socket.send_json(message)
            answer = await socket.receive(timeout=10)
            return json.loads(answer.data) if answer.type == aiohttp.WSMsgType.TEXT else socket.close_code

    return asyncio.run(scenario())


def subscribe(query: str, **variables: Any) -> dict[str, Any]:
    return {"type": "subscribe", "id": "1", "payload": {"query": query, "variables": variables}}


def test_websocket_credentials_come_in_connection_init(database: str, broker: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker, "EVENTSHOP_READS": "authenticated"}
    events_query = 'subscription { events(after: "0") { position } }'
    with served(settings.load(env)) as url:
        assert ws_scenario(url, {"Authorization": "Bearer not-a-token"}, subscribe(READ)) == 4403
        assert ws_scenario(url, None, subscribe(events_query)) == 4401
        assert ws_scenario(url, {}, subscribe(CREATE, sku="AUTH-WS-1")) == 4401
        answer = ws_scenario(url, {"token": auth.token("reader", ())}, subscribe(READ))
        assert answer["type"] == "next" and "errors" not in answer["payload"], answer
        reader = {"authorization": f"Bearer {auth.token('reader', ())}"}
        forbidden = ws_scenario(url, reader, subscribe(CREATE, sku="AUTH-WS-2"))
        assert forbidden["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN", forbidden
    assert recorded(database) == (0, 0)


def test_with_auth_off_anyone_may_write_and_is_recorded_as_anonymous(database: str, broker: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker, "EVENTSHOP_AUTH": "off"}
    with served(settings.load(env)) as url:
        status, _headers, body = post(url, CREATE, sku="AUTH-OFF")
        assert status == 200 and "errors" not in body, body
        assert post(url, READ, credential="not-even-a-token")[0] == 200  # nothing is checked
    with db.reading(database) as connection:
        row = connection.execute(select(commands)).one()
    assert (row.actor, row.actor_credential, row.actor_roles) == ("anonymous", "none", [])


def test_a_websocket_is_closed_with_4403_when_its_token_expires(database: str, broker: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker, "EVENTSHOP_JWT_LEEWAY": "0"}

    async def scenario(url: str) -> tuple[int | None, float, list[str], int]:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(url, protocols=("graphql-transport-ws",))
            expires = int(time.time()) + 3  # whole seconds: 2 to 3 s from the connection's start
            token = auth.token("short-lived", (), exp=expires)
            await socket.send_json({"type": "connection_init", "payload": {"token": token}})
            await socket.send_json(subscribe('subscription { events(after: "0") { position } }'))
            seen: list[str] = []
            while (answer := await socket.receive(timeout=15)).type == aiohttp.WSMsgType.TEXT:
                seen.append(json.loads(answer.data)["type"])
            return socket.close_code, time.time(), seen, expires

    with served(settings.load(env)) as url:
        code, closed_at, seen, expires = asyncio.run(scenario(url))
    assert code == 4403
    assert expires - 0.5 <= closed_at <= expires + 2, (closed_at, expires)
    assert seen[0] == "connection_ack" and "error" not in seen, seen  # the subscription ran until then


def test_x_forwarded_for_names_the_client_only_behind_a_trusted_proxy(database: str, broker: str) -> None:
    """Rate limited per address (authentication off): two clients behind the trusted proxy have a
    budget each; with no proxy trusted, the header is ignored and they share the peer's."""

    def accepted(env: dict[str, str]) -> tuple[dict[str, int], float]:
        counts, started = {"203.0.113.7": 0, "198.51.100.9": 0}, time.monotonic()
        with served(settings.load(env)) as url:
            for n in range(8):
                client = list(counts)[n % 2]
                headers = {"Content-Type": "application/json", "X-Forwarded-For": f"10.9.9.9, {client}"}
                body = {"query": CREATE, "variables": {"sku": f"XFF-{n}-{len(env)}"}}
                request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=30):
                        counts[client] += 1
                except urllib.error.HTTPError as error:
                    assert error.code == 429
        return counts, time.monotonic() - started

    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker}
    env.update(EVENTSHOP_AUTH="off", EVENTSHOP_RATE_LIMIT="1")  # bursts of 2, then 1 a second
    counts, _elapsed = accepted({**env, "EVENTSHOP_TRUSTED_PROXIES": "127.0.0.0/8"})
    assert min(counts.values()) >= 2, counts
    with redis.Redis.from_url(broker) as client:
        client.flushdb()
    counts, elapsed = accepted(env)
    assert sum(counts.values()) <= 2 + elapsed + 1, (counts, elapsed)  # one budget: 127.0.0.1's
