"""graphql-transport-ws on /graphql, message by message, against the API app served over real HTTP
in a thread: the protocol's close codes, ping/pong, complete, errors, and a slow consumer."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

from api.live import feed
from domain.money import Money
from domain.product import ProductCreated
from store import db, eventstore, notify, registry, settings
from store.mailbox import SUCCEEDED, Outcome
from tests.served import served

PROTOCOL = "graphql-transport-ws"
EVENTS = "subscription($after: String) { events(after: $after) { position type } }"
EVENTS_IN_FULL = "subscription { events { position type streamId version data metadata recordedAt } }"


@pytest.fixture
def api(database: str, broker: str) -> Iterator[str]:
    """The API app for the test's database and broker, on a free port, run by a thread's loop."""
    with served(settings.load({**os.environ, "DATABASE_URL": database, "BROKER_URL": broker})) as url:
        yield url


async def opened(
    session: aiohttp.ClientSession, url: str, protocols: tuple[str, ...] = (PROTOCOL,), init: bool = True
) -> aiohttp.ClientWebSocketResponse:
    socket = await session.ws_connect(url, protocols=protocols)
    if init:
        await socket.send_json({"type": "connection_init"})
        assert await socket.receive_json(timeout=5) == {"type": "connection_ack"}
    return socket


async def closed_with(socket: aiohttp.ClientWebSocketResponse, timeout: float = 10) -> tuple[int | None, str]:
    """The close code and reason the server sent (skipping any messages before it)."""
    while True:
        message = await socket.receive(timeout=timeout)
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            return socket.close_code, str(message.extra or "")


def run(scenario: Any) -> Any:
    async def main() -> Any:
        async with aiohttp.ClientSession() as session:
            return await scenario(session)

    return asyncio.run(main())


def test_the_legacy_graphql_ws_subprotocol_is_refused(api: str) -> None:
    async def scenario(session: aiohttp.ClientSession) -> tuple[int | None, str]:
        return await closed_with(await opened(session, api, ("graphql-ws",), init=False))

    code, reason = run(scenario)
    assert (code, reason) == (4406, "Subprotocol not acceptable")


def test_no_connection_init_in_time_closes_with_4408(api: str) -> None:
    async def scenario(session: aiohttp.ClientSession) -> tuple[int | None, str]:
        return await closed_with(await opened(session, api, init=False))

    started = time.monotonic()
    assert run(scenario) == (4408, "Connection initialisation timeout")
    assert time.monotonic() - started < 8


def test_subscribe_before_the_ack_is_unauthorized_and_a_second_init_too_many(api: str) -> None:
    async def scenario(session: aiohttp.ClientSession) -> list[tuple[int | None, str]]:
        early = await opened(session, api, init=False)
        await early.send_json({"type": "subscribe", "id": "1", "payload": {"query": EVENTS}})
        twice = await opened(session, api)
        await twice.send_json({"type": "connection_init"})
        return [await closed_with(early), await closed_with(twice)]

    assert run(scenario) == [(4401, "Unauthorized"), (4429, "Too many initialisation requests")]


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        '["a list"]',
        '{"type": "unknown"}',
        '{"type": "next", "id": "1", "payload": {}}',
        '{"type": "subscribe", "id": "", "payload": {"query": "{ __typename }"}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": 5}}',
        '{"type": "subscribe", "id": "1"}',
    ],
)
def test_messages_outside_the_protocol_close_with_4400(api: str, message: str) -> None:
    async def scenario(session: aiohttp.ClientSession) -> int | None:
        socket = await opened(session, api)
        await socket.send_str(message)
        return (await closed_with(socket))[0]

    assert run(scenario) == 4400


def test_ping_pong_queries_errors_duplicate_ids_and_complete(api: str) -> None:
    async def scenario(session: aiohttp.ClientSession) -> None:
        socket = await opened(session, api)
        await socket.send_json({"type": "ping"})
        assert await socket.receive_json(timeout=5) == {"type": "pong"}
        await socket.send_json({"type": "subscribe", "id": "q", "payload": {"query": "{ __typename }"}})
        assert await socket.receive_json(timeout=5) == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"__typename": "Query"}},
        }
        assert await socket.receive_json(timeout=5) == {"id": "q", "type": "complete"}
        await socket.send_json({"type": "subscribe", "id": "bad", "payload": {"query": "{ nope }"}})
        error = await socket.receive_json(timeout=5)
        assert (error["id"], error["type"]) == ("bad", "error") and error["payload"][0]["message"]
        await socket.send_json({"type": "subscribe", "id": "s", "payload": {"query": EVENTS}})
        await socket.send_json({"type": "complete", "id": "s"})
        await socket.send_json({"type": "subscribe", "id": "s", "payload": {"query": EVENTS}})
        await socket.send_json({"type": "subscribe", "id": "s", "payload": {"query": EVENTS}})
        assert await closed_with(socket) == (4409, "Subscriber for s already exists")

    run(scenario)


def test_one_connection_runs_at_most_100_operations_at_once(api: str) -> None:
    async def scenario(session: aiohttp.ClientSession) -> dict[str, Any]:
        socket = await opened(session, api)
        for n in range(101):
            await socket.send_json({"type": "subscribe", "id": str(n), "payload": {"query": EVENTS}})
        found: dict[str, Any] = await socket.receive_json(timeout=5)
        await socket.send_json({"type": "ping"})
        assert await socket.receive_json(timeout=5) == {"type": "pong"}
        return found

    refused = run(scenario)
    assert (refused["id"], refused["type"]) == ("100", "error")
    assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_OPERATIONS"


def test_a_subscription_with_bad_arguments_ends_with_an_error_message(api: str) -> None:
    async def scenario(session: aiohttp.ClientSession) -> dict[str, Any]:
        socket = await opened(session, api)
        query = 'subscription { commandUpdated(id: "00000000-0000-0000-0000-000000000000") { status } }'
        await socket.send_json({"type": "subscribe", "id": "1", "payload": {"query": query}})
        found: dict[str, Any] = await socket.receive_json(timeout=5)
        return found

    assert run(scenario) == {
        "id": "1",
        "type": "error",
        "payload": [
            {"message": "there is no command with that id", "extensions": {"code": "BAD_USER_INPUT"}}
        ],
    }


def _append(database: str, count: int) -> int:
    """Append `count` new products' first events straight to the store; returns the new head."""
    at = datetime.now(UTC)
    appends = []
    for _ in range(count):
        product_id = str(uuid.uuid4())
        created = ProductCreated(product_id, f"W-{uuid.uuid4().hex[:10]}", "W", "", Money(1, "EUR"), at)
        new = [registry.encode_event(created, {"command_id": None})]
        appends.append(eventstore.StreamAppend(product_id, "Product", 0, new))
    with db.writing(database) as connection:
        return eventstore.append_streams(connection, appends, at)[-1].position


def _frame(payload: dict[str, Any]) -> bytes:
    """A masked WebSocket text frame, as a client sends it."""
    data = json.dumps(payload).encode()
    mask = os.urandom(4)
    header = bytes([0x81]) + (
        bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0xFE]) + struct.pack("!H", len(data))
    )
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _reader_that_never_reads(url: str) -> socket.socket:
    """A WebSocket client with a tiny receive buffer that subscribes to every event and then
    reads nothing more: the server's writes to it back up at once."""
    parsed = urllib.parse.urlsplit(url)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect((parsed.hostname, parsed.port))
    key = base64.b64encode(os.urandom(16)).decode()
    client.sendall(
        (
            f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n"
        ).encode()
    )
    assert client.recv(4096).startswith(b"HTTP/1.1 101")
    client.sendall(_frame({"type": "connection_init"}))
    client.sendall(_frame({"type": "subscribe", "id": "e", "payload": {"query": EVENTS_IN_FULL}}))
    return client


def test_a_slow_consumer_is_dropped_and_the_others_get_every_event(
    api: str, database: str, broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "WINDOW", 2000)
    total = 6000

    async def scenario(session: aiohttp.ClientSession) -> tuple[list[int], tuple[str, bytes]]:
        quick = await opened(session, api)
        await quick.send_json({"type": "subscribe", "id": "e", "payload": {"query": EVENTS}})
        slow = await asyncio.to_thread(_reader_that_never_reads, api)
        await asyncio.sleep(0.5)
        positions: list[int] = []
        while len(positions) < total:
            head = await asyncio.to_thread(_append, database, 1000)
            await asyncio.to_thread(notify.handled, broker, [Outcome(0, SUCCEEDED, None, "-", head)])
            while len(positions) < head:
                message = await quick.receive_json(timeout=10)
                positions.append(int(message["payload"]["data"]["events"]["position"]))
        try:
            return positions, await asyncio.to_thread(_read_to_the_end, slow)
        finally:
            slow.close()

    positions, (ending, received) = run(scenario)
    assert positions == list(range(1, total + 1))
    assert ending in ("closed", "reset")  # by the server, not by a timeout here
    assert received.count(b'"type": "next"') < total
    if ending == "closed":
        assert struct.pack("!H", 1013) + b"too slow" in received[-200:]


def _read_to_the_end(client: socket.socket) -> tuple[str, bytes]:
    """How the connection ended ("closed" cleanly or "reset") and everything read before."""
    client.settimeout(15)
    received = b""
    try:
        while chunk := client.recv(65536):
            received += chunk
    except ConnectionResetError:
        return "reset", received
    return "closed", received
