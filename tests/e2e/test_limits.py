"""The request limits over real HTTP and WebSocket connections: each bomb of the issue's probe is
refused in milliseconds with a stable code and the server keeps answering; slow clients are cut
off; production refuses introspection.

The timed figures run from sending a request on an open connection to reading the whole answer.
The server needs a few milliseconds; the assertions allow `FAST` for this slow shared machine, and
every figure is printed (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from store import personal
from tests import processes
from tests.conftest import free_port
from tests.e2e.client import Client, wait_for

FAST = 0.5  # seconds for a refusal, answer included
QUERY = "{ products(first: 1) { totalCount } }"
JSON_TYPE = {"Content-Type": "application/json"}


def aliased(count: int, field: str = "__typename") -> str:
    return " ".join(f"a{i}: {field}" for i in range(count))


def body(query: str, **rest: Any) -> bytes:
    return json.dumps({"query": query, **rest}).encode()


BOMBS: dict[str, tuple[bytes, int, str]] = {
    "5,000 aliases of product(id)": (
        body("{" + aliased(5000, 'product(id: "00000000-0000-0000-0000-000000000000") { id name }') + "}"),
        400,
        "QUERY_TOO_COMPLEX",
    ),
    "50,000 __typename aliases": (body("{" + aliased(50_000) + "}"), 400, "QUERY_TOO_COMPLEX"),
    "200 aliased introspections": (
        body("{" + aliased(200, "__schema { types { name fields { name } } }") + "}"),
        400,
        "QUERY_TOO_COMPLEX",
    ),
    "nested aliases": (
        body("{ products(first: 100) { edges { node { " + aliased(40, "price { amount }") + " } } } }"),
        400,
        "QUERY_TOO_COMPLEX",
    ),
    "5,000 @skip directives": (
        body("{ __typename" + " @skip(if: false)" * 5000 + " }"),
        400,
        "QUERY_TOO_COMPLEX",
    ),
    "51 directives": (body("{ __typename" + " @skip(if: false)" * 51 + " }"), 400, "QUERY_TOO_COMPLEX"),
    "depth 16": (
        body("{" + "products { edges { node { " * 5 + "id" + " } } }" * 5 + "}"),
        400,
        "QUERY_TOO_COMPLEX",
    ),
    "depth 5,000": (body("{" + "a{" * 5000 + "b" + "}" * 5001), 400, "QUERY_TOO_COMPLEX"),
    "21 root fields": (body("{" + " __typename" * 21 + "}"), 400, "QUERY_TOO_COMPLEX"),
    "10,001 tokens": (body("{" + " __typename" * 9_999 + "}"), 400, "QUERY_TOO_COMPLEX"),
    "fragments spread twice, 40 deep": (
        body(
            "{ ...F0 } "
            + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
            + " fragment F40 on Query { __typename }"
        ),
        400,
        "QUERY_TOO_COMPLEX",
    ),
    "11 mutations": (
        body(
            "mutation {"
            + aliased(11, 'deleteProduct(input: {id: "00000000-0000-0000-0000-000000000000"}) { status }')
            + "}"
        ),
        400,
        "QUERY_TOO_COMPLEX",
    ),
    "first: 1001": (body("{ events(first: 1001) { pageInfo { hasNextPage } } }"), 400, "BAD_USER_INPUT"),
    "a batch": (json.dumps([{"query": QUERY}] * 100).encode(), 400, "BATCH_NOT_SUPPORTED"),
    "a body over 1 MiB": (body("#" + "x" * 1024 * 1024 + "\n" + QUERY), 413, "PAYLOAD_TOO_LARGE"),
    "variables over 64 KiB": (
        body("query($id: ID!) { product(id: $id) { id } }", variables={"id": "x" * 70_000}),
        400,
        "VARIABLES_TOO_LARGE",
    ),
    "a NUL in the query": (body(QUERY + "\u0000 mutation { x }"), 400, "BAD_REQUEST"),
}


def timed(base: str, method: str, path: str, sent: bytes | None, headers: dict[str, str]) -> Any:
    """(seconds, status, headers, decoded body) of one request on a connection opened beforehand."""
    address = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    connection.connect()
    try:
        started = time.perf_counter()
        connection.request(method, path, sent, headers)
        response = connection.getresponse()
        raw = response.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    return elapsed, response.status, dict(response.headers), json.loads(raw)


def still_answers(api: Client) -> None:
    assert api.request("GET", "/healthz")[:3:2] == (200, {"status": "ok"})
    status, _, answer = api.post({"query": QUERY})
    assert status == 200 and isinstance(answer["data"]["products"]["totalCount"], int), answer


def code(answer: dict[str, Any]) -> str:
    [error] = answer["errors"]
    assert "data" not in answer
    return str(error["extensions"]["code"])


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_each_bomb_is_refused_in_milliseconds_and_the_server_keeps_answering(
    system: Client, bomb: tuple[bytes, int, str]
) -> None:
    sent, status, expected = bomb
    elapsed, found, _headers, answer = timed(system.base, "POST", "/graphql", sent, JSON_TYPE)
    print(f"\n{len(sent):>9} bytes: {found} {expected} in {elapsed * 1000:.1f} ms")
    assert (found, code(answer)) == (status, expected), answer
    assert elapsed < FAST
    still_answers(system)


def test_a_bomb_sent_with_get_is_refused_too(system: Client) -> None:
    path = "/graphql?" + urllib.parse.urlencode({"query": "{" + " __typename" * 21 + "}"})
    elapsed, status, _headers, answer = timed(system.base, "GET", path, None, {})
    assert (status, code(answer)) == (400, "QUERY_TOO_COMPLEX")
    assert elapsed < FAST


def test_what_is_within_the_limits_runs(system: Client) -> None:
    at_the_limits = (
        "{ products(first: 100) { edges { node { "
        + aliased(30, "name")
        + " } } } "
        + " __typename" * 17
        + " ...F ...F } fragment F on Query { __typename }"
    )
    assert system.data(at_the_limits)["products"]["edges"] is not None
    deletes = aliased(10, 'deleteProduct(input: {id: "00000000-0000-0000-0000-000000000000"}) { status }')
    answer = system.gql("mutation {" + deletes + "}")
    assert "QUERY_TOO_COMPLEX" not in json.dumps(answer), answer


def test_an_unknown_content_encoding_is_415(system: Client) -> None:
    for encoding in ("xz", "br, gzip", "compress"):
        headers = {**JSON_TYPE, "Content-Encoding": encoding}
        _elapsed, status, found, answer = timed(system.base, "POST", "/graphql", body(QUERY), headers)
        assert (status, code(answer)) == (415, "UNSUPPORTED_MEDIA_TYPE"), encoding
        assert found["Accept-Encoding"] == "identity, gzip, deflate"


def test_cursors_and_tokens_take_ascii_digits_only(system: Client) -> None:
    arabic = "\u0661\u0662"  # ARABIC-INDIC DIGITS ONE, TWO: int() reads them as 12
    cursor = base64.urlsafe_b64encode(f"product:{arabic}".encode()).decode()
    for query, variables in (
        ("query($a: String) { products(after: $a) { totalCount } }", {"a": cursor}),
        ("query($a: String) { events(after: $a) { pageInfo { hasNextPage } } }", {"a": arabic}),
        ("query($t: String) { products(consistentWith: $t) { totalCount } }", {"t": arabic}),
    ):
        [error] = system.gql(query, **variables)["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    ascii_cursor = base64.urlsafe_b64encode(b"product:12").decode()
    assert "errors" not in system.gql(
        "query($a: String) { products(after: $a) { totalCount } }", a=ascii_cursor
    )


def test_a_fragment_spread_twice_runs(system: Client) -> None:
    query = "{ ...F products(first: 1) { ...P } ...F } fragment F on Query { __typename }"
    query += " fragment P on ProductConnection { totalCount }"
    assert system.data(query)["__typename"] == "Query"


def test_a_wrongly_typed_variable_is_never_echoed(system: Client) -> None:
    value = {"a": "x" * 60_000}
    [error] = system.gql("query($id: ID!) { product(id: $id) { id } }", id=value)["errors"]
    assert error["message"] == "Variable < $id > got invalid value; Expected type < ID >."
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_refused_document_over_websocket_answers_an_error_for_its_operation(system: Client) -> None:
    url = system.base.replace("http", "ws", 1) + "/graphql"

    async def scenario() -> list[Any]:
        async with aiohttp.ClientSession() as session:
            socket_ = await session.ws_connect(url, protocols=("graphql-transport-ws",))
            await socket_.send_json({"type": "connection_init"})
            assert (await socket_.receive_json(timeout=10))["type"] == "connection_ack"
            answers = []
            for operation_id, query in (
                ("bomb", "{" + aliased(50_000) + "}"),
                ("deep", "{" + "a{" * 5000 + "b" + "}" * 5001),
                ("fine", "{ __typename }"),
            ):
                started = time.perf_counter()
                await socket_.send_json(
                    {"type": "subscribe", "id": operation_id, "payload": {"query": query}}
                )
                answers.append((await socket_.receive_json(timeout=10), time.perf_counter() - started))
            await socket_.close()
            return answers

    (bomb, bomb_time), (deep, deep_time), (fine, _) = asyncio.run(scenario())
    print(f"\nover WebSocket: refused in {bomb_time * 1000:.1f} ms and {deep_time * 1000:.1f} ms")
    for answer, operation_id in ((bomb, "bomb"), (deep, "deep")):
        assert (answer["id"], answer["type"]) == (operation_id, "error"), answer
        assert answer["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert max(bomb_time, deep_time) < FAST
    assert fine == {"id": "fine", "type": "next", "payload": {"data": {"__typename": "Query"}}}


# An API process of its own: production, one-second header and body timeouts, a small response cap.

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def production(
    system_database: str, make_broker: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Client]:
    env = {
        **os.environ,
        "DATABASE_URL": system_database,
        "BROKER_URL": make_broker(),
        "EVENTSHOP_ENV": "production",
        "EVENTSHOP_MASTER_KEY": personal.new_master_key(),
        "EVENTSHOP_HEADER_TIMEOUT": str(TIMEOUT),
        "EVENTSHOP_BODY_TIMEOUT": str(TIMEOUT),
        "EVENTSHOP_MAX_RESPONSE": "300",
    }
    port, log = free_port(), tmp_path_factory.mktemp("production") / "web.log"
    with log.open("wb") as output:
        process = processes.start(
            [sys.executable, "-m", "eventshop", "web", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    api = Client(f"http://127.0.0.1:{port}")
    try:
        wait_for(lambda: _answers(api, process, log), 60, "the production API")
        yield api
    finally:
        processes.signal_group(process, signal.SIGTERM)
        process.wait(30)


def _answers(api: Client, process: subprocess.Popen[bytes], log: Path) -> bool:
    assert process.poll() is None, log.read_text()
    try:
        return api.request("GET", "/healthz")[0] == 200
    except OSError:
        return False


def test_production_refuses_introspection_but_not_typename(production: Client) -> None:
    for query in ("{ __schema { queryType { name } } }", '{ __type(name: "Product") { name } }'):
        elapsed, status, _headers, answer = timed(production.base, "POST", "/graphql", body(query), JSON_TYPE)
        assert (status, code(answer)) == (400, "INTROSPECTION_DISABLED")
        assert elapsed < FAST
    assert production.data("{ __typename }") == {"__typename": "Query"}


def test_a_response_over_its_cap_is_refused(production: Client) -> None:
    fields = " ".join(f"a_rather_long_alias_{i}: __typename" for i in range(20))  # some 700 bytes
    status, _headers, answer = production.post({"query": "{" + fields + "}"})
    assert (status, code(answer)) == (400, "RESPONSE_TOO_LARGE")


def raw_connection(api: Client) -> socket.socket:
    address = urllib.parse.urlsplit(api.base)
    return socket.create_connection((address.hostname or "", address.port or 80), timeout=10)


def closed_by_server(connection: socket.socket) -> bool:
    """Whether the server closed `connection` (reading what it sent first, if anything)."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(65536) == b""
    except OSError:
        return True


def test_slowloris_connections_are_closed_after_the_header_timeout(production: Client) -> None:
    """20 clients open a request and then send one header byte every 0.2 s, never ending it."""
    connections = [raw_connection(production) for _ in range(20)]
    started = time.monotonic()
    for connection in connections:
        connection.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    closed: dict[int, float] = {}
    while len(closed) < len(connections) and time.monotonic() - started < 10 * TIMEOUT:
        for n, connection in enumerate(connections):
            if n in closed:
                continue
            try:
                connection.sendall(b"a")
            except OSError:
                closed[n] = time.monotonic() - started
                continue
            if closed_by_server(connection):
                closed[n] = time.monotonic() - started
        still_answers(production)
        time.sleep(0.2)
    for connection in connections:
        connection.close()
    print(
        f"\n{len(closed)} slowloris connections closed after {max(closed.values(), default=0):.2f} s at most"
    )
    assert len(closed) == len(connections)
    assert min(closed.values()) >= TIMEOUT * 0.9
    assert max(closed.values()) < TIMEOUT + 3


def test_an_idle_connection_is_closed_after_the_header_timeout(production: Client) -> None:
    connection = raw_connection(production)
    started = time.monotonic()
    connection.settimeout(TIMEOUT + 5)
    assert connection.recv(1) == b""
    assert TIMEOUT * 0.9 <= time.monotonic() - started < TIMEOUT + 3


@pytest.mark.parametrize("trickle", [False, True], ids=["body shorter than its length", "body trickled"])
def test_a_body_that_does_not_arrive_in_time_is_408(production: Client, trickle: bool) -> None:
    connection = raw_connection(production)
    started = time.monotonic()
    head = b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
    connection.sendall(head + b"\r\n{")
    answer = b""
    connection.setblocking(False)
    while b"\r\n\r\n" not in answer and time.monotonic() - started < TIMEOUT + 5:
        if trickle:
            try:
                connection.sendall(b" ")
            except OSError:
                break
        readable, _, _ = select.select([connection], [], [], 0.2)
        if readable:
            answer += connection.recv(65536)
    elapsed = time.monotonic() - started
    head, _, rest = answer.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:]
    )
    connection.setblocking(True)
    while len(rest) < length:
        rest += connection.recv(65536)
    connection.close()
    print(f"\n408 after {elapsed:.2f} s")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"\r\nConnection: close" in head
    assert json.loads(rest)["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 3
    still_answers(production)


def test_a_websocket_and_a_slow_answer_outlive_the_header_timeout(production: Client) -> None:
    """The header timeout is aiohttp's keep-alive timer: it closes a connection waiting for a
    request's headers, never one whose request is being answered or that was upgraded."""
    url = production.base.replace("http", "ws", 1) + "/graphql"

    async def scenario() -> Any:
        async with aiohttp.ClientSession() as session:
            socket_ = await session.ws_connect(url, protocols=("graphql-transport-ws",))
            await socket_.send_json({"type": "connection_init"})
            assert (await socket_.receive_json(timeout=10))["type"] == "connection_ack"
            await asyncio.sleep(3 * TIMEOUT)
            await socket_.send_json({"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }"}})
            answer = await socket_.receive_json(timeout=10)
            await socket_.close()
            return answer

    assert asyncio.run(scenario())["payload"] == {"data": {"__typename": "Query"}}
    stale = "query($t: String) { products(consistentWith: $t) { totalCount } }"
    started = time.monotonic()
    [error] = production.gql(stale, t=str(2**62))[
        "errors"
    ]  # waits EVENTSHOP_WAIT_TIMEOUT (5 s) for the token
    assert error["extensions"]["code"] == "STALE_READ"
    assert time.monotonic() - started > 3 * TIMEOUT
