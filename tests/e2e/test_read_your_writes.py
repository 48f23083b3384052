"""Read-your-writes over HTTP: a mutation waits until it is handled or visible, and a read waits
for a consistency token; no retry loop anywhere in these tests."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.e2e.client import Client

RECEIPT = "commandId aggregateId status stage error token"
CREATE = f"""mutation($input: CreateProductInput!, $wait: Wait) {{
  createProduct(input: $input, wait: $wait) {{ {RECEIPT} }} }}"""
PRICE = f"""mutation($input: ChangeProductPriceInput!, $wait: Wait) {{
  changeProductPrice(input: $input, wait: $wait) {{ {RECEIPT} }} }}"""
DELETE = f"""mutation($input: DeleteProductInput!, $wait: Wait) {{
  deleteProduct(input: $input, wait: $wait) {{ {RECEIPT} }} }}"""
PRODUCT = """query($id: ID!, $token: String) { product(id: $id, consistentWith: $token) {
  id version price { amount currency } } }"""
PRODUCTS = """query($token: String) { products(first: 100, consistentWith: $token) {
  edges { node { id } } } }"""
COMMAND = "query($id: ID!) { command(id: $id) { status token visible } }"


def new_product() -> dict[str, Any]:
    sku = f"RYW-{uuid.uuid4().hex[:12].upper()}"
    return {"sku": sku, "name": "Cup", "price": {"amount": 100, "currency": "EUR"}}


def create(system: Client, wait: str | None, **fields: Any) -> dict[str, Any]:
    variables: dict[str, Any] = {"input": {**new_product(), **fields}}
    if wait is not None:
        variables["wait"] = wait
    receipt: dict[str, Any] = system.data(CREATE, **variables)["createProduct"]
    return receipt


def test_without_wait_the_receipt_says_accepted(system: Client) -> None:
    receipt = create(system, None)
    assert (receipt["status"], receipt["stage"], receipt["error"], receipt["token"]) == (
        "PENDING",
        "ACCEPTED",
        None,
        None,
    )


def test_a_visible_create_and_price_change_are_read_back_at_once(system: Client) -> None:
    for amount in range(101, 121):
        receipt = create(system, "VISIBLE")
        assert (receipt["status"], receipt["stage"]) == ("SUCCEEDED", "VISIBLE")
        product = system.data(PRODUCT, id=receipt["aggregateId"])["product"]
        assert product is not None and product["version"] == 1
        change = {"id": receipt["aggregateId"], "price": {"amount": amount, "currency": "EUR"}}
        changed = system.data(PRICE, input=change, wait="VISIBLE")["changeProductPrice"]
        assert changed["stage"] == "VISIBLE" and int(changed["token"]) > int(receipt["token"])
        product = system.data(PRODUCT, id=receipt["aggregateId"])["product"]
        assert (product["version"], product["price"]["amount"]) == (2, amount)


def test_a_handled_rejection_carries_its_error_and_no_token(system: Client) -> None:
    first = create(system, "HANDLED")
    assert (first["status"], first["stage"]) == ("SUCCEEDED", "HANDLED") and first["token"]
    sku = system.data(PRODUCT, id=first["aggregateId"], token=first["token"])["product"]
    assert sku is not None
    again = create(system, "VISIBLE", id=str(uuid.uuid4()), sku=_sku_of(system, first["aggregateId"]))
    assert (again["status"], again["stage"], again["token"]) == ("REJECTED", "VISIBLE", None)
    assert "sku" in again["error"]


def _sku_of(system: Client, product_id: str) -> str:
    found: str = system.data("query($id: ID!) { product(id: $id) { sku } }", id=product_id)["product"]["sku"]
    return found


def test_a_read_consistent_with_a_token_sees_the_write(system: Client) -> None:
    for _ in range(20):
        receipt = create(system, "HANDLED")
        product = system.data(PRODUCT, id=receipt["aggregateId"], token=receipt["token"])["product"]
        assert product is not None and product["id"] == receipt["aggregateId"]
    deleted = system.data(DELETE, input={"id": receipt["aggregateId"]}, wait="HANDLED")["deleteProduct"]
    assert system.data(PRODUCT, id=receipt["aggregateId"], token=deleted["token"])["product"] is None
    listed = system.data(PRODUCTS, token=deleted["token"])["products"]["edges"]
    assert receipt["aggregateId"] not in [edge["node"]["id"] for edge in listed]


def test_the_command_query_gives_the_token_and_says_when_it_is_visible(system: Client) -> None:
    receipt = create(system, "VISIBLE")
    command = system.data(COMMAND, id=receipt["commandId"])["command"]
    assert command == {"status": "SUCCEEDED", "token": receipt["token"], "visible": True}


def test_a_token_from_the_future_is_a_stale_read_after_the_bound(system: Client) -> None:
    started = time.monotonic()
    body = system.gql(PRODUCT, id=str(uuid.uuid4()), token=str(2**62))
    assert time.monotonic() - started >= 4  # EVENTSHOP_WAIT_TIMEOUT, 5 s by default
    assert body["data"]["product"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["STALE_READ"]


def test_a_malformed_token_is_bad_input(system: Client) -> None:
    for token in ["abc", "-1", "1.5", "9" * 30, ""]:
        body = system.gql(PRODUCT, id=str(uuid.uuid4()), token=token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], token


def test_an_unknown_wait_is_refused_before_anything_is_recorded(system: Client) -> None:
    body = system.gql(CREATE, input=new_product(), wait="FOREVER")
    assert "data" not in body or body["data"] is None
    assert body["errors"]
