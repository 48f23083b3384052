"""The global event feed over HTTP: commit order, gap-free while writes go on, filters, metadata;
and a product's history paged by version."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from tests.e2e.client import Client

EVENTS = """query($after: String, $first: Int, $types: [String!], $streamId: ID) {
  events(after: $after, first: $first, types: $types, streamId: $streamId) {
    edges { cursor node { streamId version type position schemaVersion metadata data } }
    pageInfo { hasNextPage endCursor } } }"""
CREATE = """mutation($input: CreateProductInput!) {
  createProduct(input: $input, wait: HANDLED) { commandId aggregateId status token } }"""
PRICE = """mutation($input: ChangeProductPriceInput!) {
  changeProductPrice(input: $input, wait: HANDLED) { commandId status token } }"""
HISTORY = """query($id: ID!, $first: Int, $after: Int) {
  productHistory(id: $id, first: $first, after: $after) { version type position } }"""


def create(system: Client) -> dict[str, Any]:
    sku = f"FEED-{uuid.uuid4().hex[:12].upper()}"
    product = {"sku": sku, "name": "Feed", "price": {"amount": 100, "currency": "EUR"}}
    receipt: dict[str, Any] = system.data(CREATE, input=product)["createProduct"]
    assert receipt["status"] == "SUCCEEDED"
    return receipt


def reprice(system: Client, product_id: str, amount: int) -> dict[str, Any]:
    change = {"id": product_id, "price": {"amount": amount, "currency": "EUR"}}
    receipt: dict[str, Any] = system.data(PRICE, input=change)["changeProductPrice"]
    return receipt


def page(system: Client, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = system.data(EVENTS, **variables)["events"]
    return found


def test_a_stream_s_events_carry_position_metadata_and_their_command(system: Client) -> None:
    created = create(system)
    product_id = created["aggregateId"]
    changed = reprice(system, product_id, 150)
    edges = page(system, streamId=product_id)["edges"]
    nodes = [edge["node"] for edge in edges]
    assert [(n["type"], n["version"], n["schemaVersion"]) for n in nodes] == [
        ("ProductCreated", 1, 2),
        ("ProductPriceChanged", 2, 1),
    ]
    assert [edge["cursor"] for edge in edges] == [n["position"] for n in nodes]
    assert [n["position"] for n in nodes] == [created["token"], changed["token"]]
    assert [n["metadata"]["commandId"] for n in nodes] == [created["commandId"], changed["commandId"]]
    assert all(n["metadata"]["causationId"] == n["metadata"]["commandId"] for n in nodes)
    assert all(n["metadata"]["correlationId"] and n["metadata"]["actor"] for n in nodes)


def test_the_feed_is_gap_free_in_commit_order_while_commands_are_handled(system: Client) -> None:
    start = page(system, first=0)["pageInfo"]["endCursor"]
    after = page(system, first=1000)
    while after["pageInfo"]["hasNextPage"]:
        after = page(system, first=1000, after=after["pageInfo"]["endCursor"])
    cursor = after["pageInfo"]["endCursor"] or start
    writers = [threading.Thread(target=lambda: [create(system) for _ in range(15)]) for _ in range(4)]
    for writer in writers:
        writer.start()
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while (any(w.is_alive() for w in writers) or len(seen) < 60) and time.monotonic() < deadline:
        found = page(system, first=7, after=cursor)
        seen += [int(edge["node"]["position"]) for edge in found["edges"]]
        cursor = found["pageInfo"]["endCursor"] or cursor
    for writer in writers:
        writer.join()
    assert seen == list(range(seen[0], seen[0] + len(seen))) and len(seen) >= 60
    assert seen[0] == int(after["pageInfo"]["endCursor"] or 0) + 1


def test_types_narrow_the_feed_and_pages_follow_the_cursor(system: Client) -> None:
    product_id = create(system)["aggregateId"]
    for amount in (101, 102, 103):
        reprice(system, product_id, amount)
    first = page(system, streamId=product_id, types=["ProductPriceChanged"], first=2)
    rest = page(
        system, streamId=product_id, types=["ProductPriceChanged"], after=first["pageInfo"]["endCursor"]
    )
    amounts = [edge["node"]["data"]["price"]["amount"] for edge in first["edges"] + rest["edges"]]
    assert amounts == [101, 102, 103]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert page(system, streamId=str(uuid.uuid4()))["edges"] == []
    assert page(system, streamId="not-a-uuid")["edges"] == []


def test_history_pages_by_version(system: Client) -> None:
    product_id = create(system)["aggregateId"]
    for amount in (201, 202, 203, 204):
        reprice(system, product_id, amount)
    versions = [e["version"] for e in system.data(HISTORY, id=product_id, first=2, after=1)["productHistory"]]
    assert versions == [2, 3]
    assert [e["version"] for e in system.data(HISTORY, id=product_id)["productHistory"]] == [1, 2, 3, 4, 5]
    assert system.data(HISTORY, id=product_id, after=5)["productHistory"] == []


def test_bad_cursors_and_sizes_are_bad_input(system: Client) -> None:
    for variables in ({"after": "x"}, {"after": "-3"}, {"first": -1}):
        body = system.gql(EVENTS, **variables)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], variables
    # A page past EVENTSHOP_MAX_FIRST (1000) is refused before the operation runs (api.limits).
    too_long: list[tuple[str, dict[str, Any]]] = [
        (EVENTS, {"first": 1001}),
        (HISTORY, {"id": str(uuid.uuid4()), "first": 5000}),
    ]
    for query, sizes in too_long:
        status, _headers, refused = system.post({"query": query, "variables": sizes})
        assert status == 400
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"], sizes
