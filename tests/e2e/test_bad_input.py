"""Bad and random input against the running API: never a 5xx, never internal text, always an answer."""

from __future__ import annotations

import json
import math
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

import api
from tests.e2e.client import Client

# DateTime is built into Tartiflette, so the SDL files leave it out; graphql-core needs it declared.
SDL = "scalar DateTime\n" + "\n".join(
    path.read_text() for path in sorted((Path(api.__file__).parent / "schema").glob("*.graphql"))
)
JSON_TYPE = {"Content-Type": "application/json"}
LEAKS = ("Traceback", "Internal server error", "sqlalchemy", "psycopg", "sqlite3", 'File "')
BODY_LIMIT = 1024 * 1024
QUERY = "{ products(first: 1) { totalCount } }"
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Valid documents whose variables and operation name the random-body test fills with anything.
DOCUMENTS = (
    "query($id: ID!) { product(id: $id) { id sku name description price { amount currency } version } }",
    "query($first: Int, $after: String) { products(first: $first, after: $after) {"
    " totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
    "query($id: ID!) { command(id: $id) { id type status error submittedAt completedAt } }",
    "query($id: ID!) { productHistory(id: $id) { streamId version type data recordedAt } }",
    "query One($id: ID!) { product(id: $id) { id } } query Two { products { totalCount } }",
    "mutation($input: CreateProductInput!) { createProduct(input: $input) { commandId aggregateId status } }",
    "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { commandId status } }",
    "mutation($input: ChangeProductPriceInput!) { changeProductPrice(input: $input) { status } }",
    "mutation($input: DeleteProductInput!) { deleteProduct(input: $input) { status } }",
    "mutation Make($input: CreateProductInput!) { createProduct(input: $input) { status } }"
    " query Read($id: ID!) { product(id: $id) { id } }",
)
NAMES = ("id", "first", "after", "input", "commandId", "sku", "name", "description", "price", "amount")


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
    """The internal markers in `body` that the request did not itself contain (errors may echo input)."""
    found = "\n".join(_strings(body)).lower()
    return [leak for leak in LEAKS if leak.lower() in found and leak.lower() not in sent.lower()]


def check(answer: tuple[int, dict[str, str], Any], sent: Any, *, json_body: bool = True) -> Any:
    """Assert that an answer is a client-facing one: below 500, no internal text, a GraphQL response."""
    status, _headers, body = answer
    shown = repr(sent)[:2000]
    sent_text = sent.decode(errors="replace") if isinstance(sent, bytes) else json.dumps(sent)
    assert status < 500, f"{status} for {shown}: {body!r:.2000}"
    assert not _leaks(body, sent_text), f"internal text {_leaks(body, sent_text)} for {shown}: {body!r:.2000}"
    if json_body:
        assert isinstance(body, dict), f"not a JSON object for {shown}: {body!r:.2000}"
        assert "data" in body or "errors" in body, f"neither data nor errors for {shown}: {body!r:.2000}"
        if status != 200:
            assert 400 <= status < 500 and body.get("errors"), f"{status} for {shown}: {body!r:.2000}"
    return body


def still_answers(system: Client) -> None:
    assert system.request("GET", "/healthz")[:3:2] == (200, {"status": "ok"})
    status, _, body = system.post({"query": QUERY})
    assert status == 200 and isinstance(body["data"]["products"]["totalCount"], int), body


@FUZZ
@settings(max_examples=300)
@given(query=queries(SDL) | queries(SDL, mode=Mode.NEGATIVE))
def test_generated_queries(system: Client, query: object) -> None:
    payload = {"query": query}
    check(system.post(payload), payload)


@FUZZ
@settings(max_examples=300)
@given(mutation=mutations(SDL) | mutations(SDL, mode=Mode.NEGATIVE))
def test_generated_mutations(system: Client, mutation: object) -> None:
    payload = {"query": mutation}
    check(system.post(payload), payload)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**31) - 2, max_value=2**31 + 1)
    | st.floats()
    | st.text()
    | st.uuids().map(str)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
VARIABLES = st.none() | JSON_VALUES | st.dictionaries(st.sampled_from(NAMES) | st.text(), JSON_VALUES)
OPERATION_NAMES = st.none() | st.sampled_from(["One", "Two", "Make", "Read", ""]) | st.text() | JSON_VALUES


def _encode(payload: Any) -> bytes:
    """JSON as Python writes it: NaN and Infinity included, as a careless client might send them."""
    return json.dumps(payload, allow_nan=True).encode()


@FUZZ
@settings(max_examples=250)
@given(
    payload=st.fixed_dictionaries(
        {"query": st.sampled_from(DOCUMENTS), "variables": VARIABLES},
        optional={"operationName": OPERATION_NAMES, "extensions": JSON_VALUES},
    )
    | st.dictionaries(st.sampled_from(["query", "variables", "operationName", "extensions"]), JSON_VALUES)
    | JSON_VALUES
)
def test_random_json_bodies(system: Client, payload: Any) -> None:
    body = _encode(payload)
    check(system.request("POST", "/graphql", body, JSON_TYPE), body)


def _deep(depth: int) -> str:
    return "{" + "a{" * depth + "}" * (depth + 1)


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
    "lone surrogate": b'{"query": "{ product(id: \\"\\ud800\\") { id } }"}',
    "deep json array": b"[" * 100_000,
    "deep json object": b'{"a":' * 100_000,
    "deep variables": b'{"query": "' + QUERY.encode() + b'", "variables": {"a": ' + b"[" * 50_000 + b"}",
    "huge integer": b'{"query": "{ products(first: 1) { totalCount } }", "variables": {"n": 1'
    + b"1" * 5000
    + b"}}",
    "NaN first": b'{"query": "query($n: Int) { products(first: $n) { totalCount } }", "variables": {"n": NaN}}',
    "infinite first": (
        b'{"query": "query($n: Int) { products(first: $n) { totalCount } }", "variables": {"n": Infinity}}'
    ),
    "float first": b'{"query": "query($n: Int) { products(first: $n) { totalCount } }", "variables": {"n": 1e400}}',
    "variables as a string": json.dumps({"query": QUERY, "variables": '{"first": 1}'}).encode(),
    "variables as a list": json.dumps({"query": QUERY, "variables": [1]}).encode(),
    "query as a list": json.dumps({"query": [QUERY]}).encode(),
    "query blank": json.dumps({"query": " \n\t"}).encode(),
    "operationName as a number": json.dumps({"query": QUERY, "operationName": 5}).encode(),
    "unknown operationName": json.dumps({"query": QUERY, "operationName": "Nope"}).encode(),
    "NUL bytes in the query": json.dumps({"query": "{ products(first: 1) {\u0000 totalCount } }"}).encode(),
    "NUL byte first": json.dumps({"query": "\u0000" + QUERY}).encode(),
    "NUL bytes in an argument": json.dumps({"query": '{ product(id: "a\\u0000b\u0000") { id } }'}).encode(),
    "NUL bytes in a variable": json.dumps(
        {"query": "query($id: ID!) { command(id: $id) { id } }", "variables": {"id": "\u0000x\u0000"}}
    ).encode(),
    "deep graphql": json.dumps({"query": _deep(5000)}).encode(),
    "deep graphql, valid fields": json.dumps(
        {"query": "{ products { edges { node { price {" * 1000 + " amount " + "} } } }" * 1000}
    ).encode(),
    "deep graphql list value": json.dumps(
        {"query": "{ products(after: " + "[" * 5000 + "]" * 5000 + ") { totalCount } }"}
    ).encode(),
    "900 KB of whitespace": json.dumps({"query": "{" + " " * 900_000 + "products { totalCount } }"}).encode(),
    "900 KB of comments": json.dumps({"query": "#" + "x" * 900_000 + "\n" + QUERY}).encode(),
    "900 KB argument": json.dumps({"query": '{ product(id: "' + "x" * 900_000 + '") { id } }'}).encode(),
    "900 KB variable": json.dumps(
        {"query": "query($id: ID!) { productHistory(id: $id) { type } }", "variables": {"id": "x" * 900_000}}
    ).encode(),
    "900 KB name": json.dumps({"query": "{ " + "a" * 900_000 + " }"}).encode(),
    "many aliases": json.dumps(
        {"query": "{" + " ".join(f"a{i}: __typename" for i in range(20_000)) + "}"}
    ).encode(),
    "many fragments": json.dumps(
        {
            "query": "{ ...F0 } "
            + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(2000))
            + " fragment F2000 on Query { __typename }"
        }
    ).encode(),
    "fragment cycle": json.dumps(
        {"query": "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"}
    ).encode(),
    "huge cursor position": json.dumps(
        {"query": '{ products(after: "cHJvZHVjdDo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5") { totalCount } }'}
    ).encode(),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies(system: Client, body: bytes) -> None:
    check(system.request("POST", "/graphql", body, JSON_TYPE), body)
    still_answers(system)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "application/json; charset=utf-16",
        "application/json; charset=nope",
        "application/jsonx",
        "application",
        ";;;",
        "\u00e9/\u00e9",
    ],
)
def test_wrong_content_types(system: Client, content_type: str | None) -> None:
    body = json.dumps({"query": QUERY}).encode()
    headers = {} if content_type is None else {"Content-Type": content_type}
    answer = system.request("POST", "/graphql", body, headers)
    check(answer, body)
    still_answers(system)


def test_a_body_over_the_limit_is_refused(system: Client) -> None:
    body = json.dumps({"query": "#" + "x" * BODY_LIMIT + "\n" + QUERY}).encode()
    status, _, answer = system.request("POST", "/graphql", body, JSON_TYPE)
    assert 400 <= status < 500, (status, answer)
    check((status, {}, answer), body, json_body=False)
    still_answers(system)


@pytest.mark.parametrize(
    "params",
    [
        {"query": "{" + " " * 4000 + "products { totalCount } }"},
        {"query": "{" + " " * 20_000 + "products { totalCount } }"},
        {"query": "{" + " " * 200_000 + "products { totalCount } }"},
        {"query": QUERY, "variables": "[" * 2000},
        {"query": QUERY, "variables": "5"},
        {"query": QUERY, "variables": '"x"'},
        {"query": QUERY, "extensions": "nope"},
        {"query": "\u0000"},
        {"query": _deep(300)},
    ],
    ids=[
        "4 KB",
        "20 KB",
        "200 KB",
        "deep variables",
        "number variables",
        "string variables",
        "bad extensions",
        "NUL",
        "deep query",
    ],
)
def test_bad_gets(system: Client, params: dict[str, str]) -> None:
    path = "/graphql?" + urllib.parse.urlencode(params)
    status, headers, answer = system.request("GET", path)
    # A request line over the server's limit is refused before the handler, in the server's own words.
    check((status, headers, answer), params, json_body=len(path) < 8000)
    still_answers(system)


def test_the_server_still_answers(system: Client) -> None:
    still_answers(system)
    assert not math.isnan(0.0)
