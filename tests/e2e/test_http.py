"""GraphQL over HTTP as the specification asks, against the running API."""

from __future__ import annotations

import json
import urllib.parse

from tests.e2e.client import Client

GRAPHQL_RESPONSE = "application/graphql-response+json"
QUERY = "{ products(first: 1) { totalCount } }"


def test_healthz(system: Client) -> None:
    assert system.request("GET", "/healthz")[:3:2] == (200, {"status": "ok"})


def test_queries_work_over_get(system: Client) -> None:
    status, headers, body = system.request("GET", "/graphql?" + urllib.parse.urlencode({"query": QUERY}))
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert isinstance(body["data"]["products"]["totalCount"], int)


def test_mutations_over_get_are_refused_with_405(system: Client) -> None:
    mutation = 'mutation { deleteProduct(input: {id: "00000000-0000-0000-0000-000000000000"}) { status } }'
    status, headers, _ = system.request("GET", "/graphql?" + urllib.parse.urlencode({"query": mutation}))
    assert (status, headers["Allow"]) == (405, "POST")


def test_bad_json_is_400(system: Client) -> None:
    for body in (
        b"{",
        b"5",
        b"null",
        b"[]",
        b"\xff\xfe",
        b'{"query": 5}',
        b'{"query": "{ a }", "variables": 3}',
    ):
        status, _, answer = system.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        assert status == 400, body
        assert "errors" in answer and "data" not in answer


def test_a_wrong_content_type_is_415(system: Client) -> None:
    status, _, _ = system.request(
        "POST", "/graphql", json.dumps({"query": QUERY}).encode(), {"Content-Type": "text/plain"}
    )
    assert status == 415


def test_graphql_response_json_is_honoured(system: Client) -> None:
    accept = {"Accept": GRAPHQL_RESPONSE}
    status, headers, body = system.post({"query": QUERY}, accept)
    assert status == 200 and headers["Content-Type"].startswith(GRAPHQL_RESPONSE)
    assert "data" in body
    for query in (
        "{ products(first: 1) { nope } }",
        "{ products(",
        "query($n: Int) { products(first: $n) { totalCount } }",
    ):
        status, _, body = system.post({"query": query, "variables": {"n": "x"}}, accept)
        assert status == 400, query
        assert "data" not in body and body["errors"]


def test_request_errors_with_plain_json_are_200_with_errors(system: Client) -> None:
    status, _, body = system.post({"query": "{ products(first: 1) { nope } }"})
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_an_unacceptable_accept_header_is_406(system: Client) -> None:
    assert system.post({"query": QUERY}, {"Accept": "text/html"})[0] == 406


def test_bad_cursor_is_bad_user_input(system: Client) -> None:
    body = system.gql('{ products(first: 1, after: "garbage!") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = system.gql("{ products(first: 101) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
