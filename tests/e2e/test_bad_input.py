"""Bad and random input against the running API: never a 5xx, never internal text, always an answer.

Every answer must be below 500 and free of internal text (a traceback, "Internal server error", driver
names); every answer of the GraphQL handler must be a JSON object with "data" or "errors". Refusals made
by the HTTP server itself before the handler runs (a request line or body over its limits, an unknown
method, a body it cannot decompress) must be 4xx but may be plain text.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries
from sqlalchemy import select

from api.graphql import engine
from store import db
from store.schema import commands
from tests.conftest import free_port
from tests.e2e.client import Client, running_system, wait_for

SDL = engine.sdl()
JSON_TYPE = {"Content-Type": "application/json"}
LEAKS = ("Traceback", "Internal server error", "sqlalchemy", "psycopg", "sqlite3", 'File "')
BODY_LIMIT = 1024 * 1024
REQUEST_LINE_LIMIT = 8190  # aiohttp's default max_line_size
QUERY = "{ products(first: 1) { totalCount } }"
CREATE = "mutation($input: CreateProductInput!) { createProduct(input: $input) { commandId aggregateId } }"


def fuzz(examples: int) -> settings:
    """Settings for a property test that talks to the session's running system."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _strings(value: Any) -> Iterator[str]:
    """Every string in a decoded response: keys and values, however deep."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _leaks(body: Any, sent: str) -> list[str]:
    """The internal markers in `body` that the request did not contain itself (errors may echo input)."""
    found = "\n".join(_strings(body)).lower()
    return [leak for leak in LEAKS if leak.lower() in found and leak.lower() not in sent.lower()]


def check(answer: tuple[int, dict[str, str], Any], sent: Any, *, graphql: bool = True) -> Any:
    """Assert that an answer is one meant for a client; `graphql` when the GraphQL handler gave it."""
    status, _headers, body = answer
    sent_text = sent.decode(errors="replace") if isinstance(sent, bytes) else json.dumps(sent)
    context = f"for {sent!r:.300}\ngot {status}: {body!r:.500}"
    assert status < 500, f"a server error {context}"
    leaks = _leaks(body, sent_text)
    assert not leaks, f"internal text {leaks} {context}"
    if graphql:
        assert isinstance(body, dict), f"not a JSON object {context}"
        assert "data" in body or "errors" in body, f"neither data nor errors {context}"
        if status != 200:
            assert 400 <= status < 500 and body.get("errors"), f"a refusal without errors {context}"
    else:
        assert status == 200 or 400 <= status < 500, f"neither 200 nor 4xx {context}"
    return body


def still_answers(system: Client) -> None:
    assert system.request("GET", "/healthz")[:3:2] == (200, {"status": "ok"})
    status, _, body = system.post({"query": QUERY})
    assert status == 200 and isinstance(body["data"]["products"]["totalCount"], int), body


# 1. Operations generated from the schema: valid ones, and ones with exactly one schema violation.


@fuzz(600)
@given(query=queries(SDL) | queries(SDL, mode=Mode.NEGATIVE))
def test_generated_queries(system: Client, query: object) -> None:
    payload = {"query": query}
    check(system.post(payload), payload)


@fuzz(600)
@given(mutation=mutations(SDL) | mutations(SDL, mode=Mode.NEGATIVE))
def test_generated_mutations(system: Client, mutation: object) -> None:
    payload = {"query": mutation}
    check(system.post(payload), payload)


# 2. Valid documents with random variables and operation names, and random bodies around them.

DOCUMENTS = (
    "query($id: ID!) { product(id: $id) { id sku name description price { amount currency } version } }",
    "query($first: Int, $after: String) { products(first: $first, after: $after) {"
    " totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
    "query($id: ID!) { command(id: $id) { id type status error submittedAt completedAt } }",
    "query($id: ID!) { productHistory(id: $id) { streamId version type data recordedAt } }",
    "query One($id: ID!) { product(id: $id) { id } } query Two { products { totalCount } }",
    CREATE,
    "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { commandId status } }",
    "mutation($input: ChangeProductPriceInput!) { changeProductPrice(input: $input) { status } }",
    "mutation($input: DeleteProductInput!) { deleteProduct(input: $input) { status } }",
    "mutation Make($input: CreateProductInput!) { createProduct(input: $input) { status } }"
    " query Read($id: ID!) { product(id: $id) { id } }",
)
NAMES = ("id", "first", "after", "input", "commandId", "sku", "name", "description", "price", "amount")
# st.text() leaves out lone surrogates on purpose: one in a product's name stops the shared system's
# projector (see test_lone_surrogates_neither_fail_nor_stop_the_projector, which uses its own system).
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**31) - 2, max_value=2**31 + 1)
    | st.floats()
    | st.text()
    | st.uuids().map(str)
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.sampled_from(NAMES) | st.text(max_size=8)
    return st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)


JSON_VALUES = st.recursive(SCALARS, _containers, max_leaves=12)
VARIABLES = st.none() | JSON_VALUES | st.dictionaries(st.sampled_from(NAMES) | st.text(), JSON_VALUES)
OPERATION_NAMES = st.none() | st.sampled_from(["One", "Two", "Make", "Read", ""]) | st.text() | JSON_VALUES
PAYLOADS = (
    st.fixed_dictionaries(
        {"query": st.sampled_from(DOCUMENTS), "variables": VARIABLES},
        optional={"operationName": OPERATION_NAMES, "extensions": JSON_VALUES},
    )
    | st.dictionaries(st.sampled_from(["query", "variables", "operationName", "extensions"]), JSON_VALUES)
    | JSON_VALUES
)


@fuzz(500)
@given(payload=PAYLOADS)
def test_random_json_bodies(system: Client, payload: Any) -> None:
    # json.dumps writes NaN and Infinity, as a careless client might send them.
    body = json.dumps(payload).encode()
    check(system.request("POST", "/graphql", body, JSON_TYPE), body)


# 3. Malformed, huge, deep and odd requests.


def _deep(depth: int) -> str:
    """A selection nested `depth` levels deep that ends in an empty (invalid) selection set."""
    return "{" + "a{" * depth + "}" * (depth + 1)


def _json(query: str, **rest: Any) -> bytes:
    return json.dumps({"query": query, **rest}).encode()


HUGE_CURSOR = base64.urlsafe_b64encode(b"product:" + b"9" * 30).decode()
BY_ID = "query($id: ID!) { product(id: $id) { id } }"
INT_FIRST = "query($n: Int) { products(first: $n) { totalCount } }"
AFTER = "query($a: String) { products(after: $a) { totalCount } }"
MALFORMED: dict[str, bytes] = {
    "number": b"5",
    "null": b"null",
    "string": b'"x"',
    "array": b"[]",
    "empty object": b"{}",
    "empty body": b"",
    "truncated": b'{"query": "{ products',
    "invalid utf-8": b"\xff\xfe\x00",
    "invalid utf-8 in a string": b'{"query": "{ product(id: \\"\xff\xfe\\") { id } }"}',
    "deep json array": b"[" * 100_000,
    "deep json object": b'{"a":' * 100_000,
    "deep variables": b'{"query": "' + QUERY.encode() + b'", "variables": {"a": ' + b"[" * 50_000 + b"}",
    "huge integer": b'{"query": "' + QUERY.encode() + b'", "variables": {"n": 1' + b"1" * 5000 + b"}}",
    "NaN first": _json(INT_FIRST)[:-1] + b', "variables": {"n": NaN}}',
    "infinite first": _json(INT_FIRST)[:-1] + b', "variables": {"n": -Infinity}}',
    "float first": _json(INT_FIRST)[:-1] + b', "variables": {"n": 1e400}}',
    "variables as a string": _json(QUERY, variables='{"first": 1}'),
    "variables as a list": _json(QUERY, variables=[1]),
    "query as a list": json.dumps({"query": [QUERY]}).encode(),
    "blank query": _json(" \n\t"),
    "operationName as a number": _json(QUERY, operationName=5),
    "unknown operationName": _json(QUERY, operationName="Nope"),
    "NUL bytes in the query": _json("{ products(first: 1) {\u0000 totalCount } }"),
    "NUL byte first": _json("\u0000" + QUERY),
    "NUL after the query": _json(QUERY + "\u0000 mutation { x }"),
    "escaped NUL in an argument": _json('{ product(id: "a\\u0000b") { id } }'),
    "NUL bytes in a variable": _json(BY_ID, variables={"id": "\u0000x\u0000"}),
    "escaped non-ascii in an argument": _json('{ product(id: "\\u00e9") { id } }'),
    "escaped control character in an argument": _json('{ product(id: "\\u0080") { id } }'),
    "lone surrogate in the query": _json('{ product(id: "\ud800") { id } }'),
    "lone surrogate in a variable": _json(BY_ID, variables={"id": "\udc00"}),
    "lone surrogate in a cursor": _json(AFTER, variables={"a": "\ud800"}),
    "lone surrogate as operationName": _json(QUERY, operationName="\ud800"),
    "deep invalid selection": _json(_deep(5000)),
    "deep selection": _json("{" + "a{" * 5000 + "b" + "}" * 5001),
    "300 levels of selection": _json("{" + "a{" * 300 + "b" + "}" * 301),
    "deep list value": _json("{ products(after: " + "[" * 5000 + "]" * 5000 + ") { totalCount } }"),
    "deep object value": _json(
        "{ products(after: " + "{a: " * 5000 + "1" + "}" * 5000 + ") { totalCount } }"
    ),
    "900 KB of whitespace": _json("{" + " " * 900_000 + "products { totalCount } }"),
    "900 KB of comments": _json("#" + "x" * 900_000 + "\n" + QUERY),
    "900 KB argument": _json('{ product(id: "' + "x" * 900_000 + '") { id } }'),
    "900 KB variable": _json(
        "query($id: ID!) { productHistory(id: $id) { type } }", variables={"id": "x" * 900_000}
    ),
    "900 KB field name": _json("{ " + "a" * 900_000 + " }"),
    "20,000 aliases": _json("{" + " ".join(f"a{i}: __typename" for i in range(20_000)) + "}"),
    "80,000 fields": _json("{" + " __typename" * 80_000 + "}"),
    "2,000 chained fragments": _json(
        "{ ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(2000))
        + " fragment F2000 on Query { __typename }"
    ),
    "fragment cycle": _json("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"),
    "huge cursor position": _json('{ products(after: "' + HUGE_CURSOR + '") { totalCount } }'),
    "null first": _json("{ products(first: null) { totalCount } }"),
    "null first variable": _json(INT_FIRST, variables={"n": None}),
    "huge first": _json("{ products(first: 99999999999999999999999999) { totalCount } }"),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies(system: Client, body: bytes) -> None:
    check(system.request("POST", "/graphql", body, JSON_TYPE), body)
    still_answers(system)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {"Content-Type": "application/graphql"},
        {"Content-Type": "application/json; charset=utf-16"},
        {"Content-Type": "application/json; charset=nope"},
        {"Content-Type": "application/jsonx"},
        {"Content-Type": "application"},
        {"Content-Type": ";;;"},
        {"Content-Type": "\u00e9/\u00e9"},
        {"Content-Type": "application/json", "Accept": "application/graphql-response+json;q=x, */*"},
        {"Content-Type": "application/json", "Accept": ",,,"},
        {"Content-Type": "application/json", "Accept": "text/html"},
    ],
    ids=repr,
)
def test_wrong_content_types_and_accept_headers(system: Client, headers: dict[str, str]) -> None:
    body = _json(QUERY)
    # Any explicit header still goes; urllib adds a form Content-Type when none is given.
    check(system.request("POST", "/graphql", body, headers), body)
    still_answers(system)


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(_json(QUERY))),
        ("deflate", zlib.compress(_json(QUERY))),
        ("gzip", _json(QUERY)),
        ("deflate", _json(QUERY)),
        ("gzip", gzip.compress(_json(QUERY))[:12]),
        ("br", _json(QUERY)),
        ("x-unknown", _json(QUERY)),
        ("gzip", gzip.compress(b" " * 8 * BODY_LIMIT + _json(QUERY))),
    ],
    ids=["gzip", "deflate", "bad gzip", "bad deflate", "cut gzip", "br", "unknown", "gzip bomb"],
)
def test_content_encodings(system: Client, encoding: str, body: bytes) -> None:
    answer = system.request("POST", "/graphql", body, {**JSON_TYPE, "Content-Encoding": encoding})
    check(answer, body, graphql=answer[0] == 200)
    still_answers(system)


def test_a_body_over_the_limit_is_refused(system: Client) -> None:
    body = _json("#" + "x" * BODY_LIMIT + "\n" + QUERY)
    answer = system.request("POST", "/graphql", body, JSON_TYPE)
    check(answer, body, graphql=False)
    assert 400 <= answer[0] < 500, answer[:3:2]
    still_answers(system)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_are_refused(system: Client, method: str) -> None:
    answer = system.request(method, "/graphql", _json(QUERY), JSON_TYPE)
    check(answer, method, graphql=False)
    assert 400 <= answer[0] < 500, answer[:3:2]


GETS = {
    "4 KB": "/graphql?" + urllib.parse.urlencode({"query": "{" + " " * 4000 + "products { totalCount } }"}),
    "20 KB": "/graphql?"
    + urllib.parse.urlencode({"query": "{" + " " * 20_000 + "products { totalCount } }"}),
    "200 KB": "/graphql?"
    + urllib.parse.urlencode({"query": "{" + " " * 200_000 + "products { totalCount } }"}),
    "deep variables": "/graphql?" + urllib.parse.urlencode({"query": QUERY, "variables": "[" * 2000}),
    "number variables": "/graphql?" + urllib.parse.urlencode({"query": QUERY, "variables": "5"}),
    "string variables": "/graphql?" + urllib.parse.urlencode({"query": QUERY, "variables": '"x"'}),
    "bad extensions": "/graphql?" + urllib.parse.urlencode({"query": QUERY, "extensions": "{"}),
    "deep query": "/graphql?" + urllib.parse.urlencode({"query": _deep(300)}),
    "no query": "/graphql",
    "empty query": "/graphql?query=",
    "NUL": "/graphql?query=%00",
    "invalid utf-8": "/graphql?query=%ff%fe",
    "lone surrogate": "/graphql?query=%ed%a0%80",
    "bad percent": "/graphql?query=%&variables=%zz",
    "repeated query": "/graphql?query=%7B__typename%7D&query=mutation%7Bx%7D",
    "mutation": "/graphql?" + urllib.parse.urlencode({"query": CREATE, "variables": "{}"}),
}


@pytest.mark.parametrize("path", GETS.values(), ids=GETS.keys())
def test_bad_gets(system: Client, path: str) -> None:
    answer = system.request("GET", path)
    # A request line over the server's limit is refused before the handler, in the server's own words.
    check(answer, path, graphql=len(path) < REQUEST_LINE_LIMIT)
    still_answers(system)


# A lone surrogate in a product's text gets past the API; this test runs it on a system of its own, as
# the session's system would be left unable to project any later event.


@pytest.fixture(scope="module")
def own_system(
    make_database: Callable[[], str], make_broker: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Client]:
    folder = tmp_path_factory.mktemp("bad_input_system")
    env = {**os.environ, "DATABASE_URL": make_database(), "BROKER_URL": make_broker()}
    with running_system(env, free_port(), folder / "data", folder / "up.log") as client:
        yield client


def test_lone_surrogates_neither_fail_nor_stop_the_projector(own_system: Client) -> None:
    price = {"amount": 100, "currency": "EUR"}
    for product in (
        {"sku": "SURROGATE-1", "name": "\ud800", "price": price},
        {"sku": "SURROGATE-2", "name": "ok", "description": "a\udfffb", "price": price},
    ):
        payload = {"query": CREATE, "variables": {"input": product}}
        check(own_system.post(payload), payload)
    # Refused or kept, the surrogates must not stop later products from appearing.
    payload = {"query": CREATE, "variables": {"input": {"sku": "AFTER-1", "name": "after", "price": price}}}
    receipt = check(own_system.post(payload), payload)["data"]["createProduct"]
    wait_for(lambda: own_system.product(receipt["aggregateId"]), 20, "a product created after the surrogates")
    still_answers(own_system)


def test_the_server_still_answers(system: Client) -> None:
    still_answers(system)


def test_the_invariants_hold_afterwards(system: Client, system_database: str) -> None:
    """Whatever the fuzzing recorded ends terminal, and `eventshop verify` finds nothing wrong."""
    env = {**os.environ, "DATABASE_URL": system_database}

    def settled() -> bool:
        with db.reading(system_database) as connection:
            pending = connection.execute(select(commands.c.id).where(commands.c.status == "PENDING")).first()
        lines = subprocess.run(
            [sys.executable, "-m", "eventshop", "projections", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.splitlines()
        return pending is None and all(json.loads(line)["lag"] == 0 for line in lines)

    wait_for(settled, 120, "every command to end and every projection to reach the head")
    result = subprocess.run(
        [sys.executable, "-m", "eventshop", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
