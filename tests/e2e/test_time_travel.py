"""The past over HTTP: a product and the catalog as they were at an event's recorded time or at a
version, while the live read model has moved on."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tests.e2e.client import Client

CREATE = """mutation($input: CreateProductInput!) {
  createProduct(input: $input, wait: VISIBLE) { aggregateId stage } }"""
PRICE = """mutation($input: ChangeProductPriceInput!) {
  changeProductPrice(input: $input, wait: VISIBLE) { stage } }"""
HISTORY = "query($id: ID!) { productHistory(id: $id) { version recordedAt } }"
AT = """query($id: ID!, $asOf: DateTime, $version: Int) {
  product(id: $id, asOf: $asOf, version: $version) { version price { amount } } }"""
CATALOG = """query($asOf: DateTime, $sku: String) {
  products(asOf: $asOf, filter: {skuPrefix: $sku}) { edges { node { version price { amount } } } } }"""


def test_a_product_and_the_catalog_as_they_were(system: Client) -> None:
    sku = f"PAST-{uuid.uuid4().hex[:10].upper()}"
    product = {"sku": sku, "name": "Then", "price": {"amount": 100, "currency": "EUR"}}
    product_id = system.data(CREATE, input=product)["createProduct"]["aggregateId"]
    change = {"id": product_id, "price": {"amount": 250, "currency": "EUR"}}
    assert system.data(PRICE, input=change)["changeProductPrice"]["stage"] == "VISIBLE"
    first, second = system.data(HISTORY, id=product_id)["productHistory"]
    then = {"version": 1, "price": {"amount": 100}}
    now = {"version": 2, "price": {"amount": 250}}
    assert system.data(AT, id=product_id, asOf=first["recordedAt"])["product"] == then
    assert system.data(AT, id=product_id, asOf=second["recordedAt"])["product"] == now
    assert system.data(AT, id=product_id, version=1)["product"] == then
    before = (datetime.fromisoformat(first["recordedAt"]) - timedelta(milliseconds=1)).isoformat()
    assert system.data(AT, id=product_id, asOf=before)["product"] is None
    assert system.data(CATALOG, asOf=first["recordedAt"], sku=sku)["products"]["edges"] == [{"node": then}]
    assert system.data(CATALOG, asOf=before, sku=sku)["products"]["edges"] == []
    assert system.data(CATALOG, sku=sku)["products"]["edges"] == [{"node": now}]


def test_a_time_that_is_not_iso_8601_is_bad_input(system: Client) -> None:
    body = system.gql(AT, id=str(uuid.uuid4()), asOf="yesterday")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
