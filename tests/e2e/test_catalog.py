"""The product catalog end to end: real API, worker, projector and beat processes over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.client import Client, wait_for
from tests.e2e.documents import CREATE, DELETE, HISTORY, PRICE, UPDATE

PAGE = """query($after: String) { products(first: 100, after: $after) {
  totalCount edges { cursor node { id version } } pageInfo { hasNextPage endCursor } } }"""


def sku() -> str:
    return f"E2E-{uuid.uuid4().hex[:12].upper()}"


def product_input(**fields: Any) -> dict[str, Any]:
    return {"sku": sku(), "name": "Espresso cup", "price": {"amount": 1250, "currency": "EUR"}, **fields}


def submit(system: Client, mutation: str, **fields: Any) -> dict[str, Any]:
    data = system.data(mutation, input=fields)
    receipt: dict[str, Any] = next(iter(data.values()))
    return receipt


def created(system: Client, **fields: Any) -> str:
    receipt = submit(system, CREATE, **product_input(**fields))
    assert system.settled(receipt["commandId"])["status"] == "SUCCEEDED"
    return str(receipt["aggregateId"])


def visible(system: Client, product_id: str, version: int) -> dict[str, Any]:
    return wait_for(
        lambda: (p := system.product(product_id)) and p["version"] >= version and p,
        60,
        f"product {product_id} at version {version}",
    )


def test_create_then_read_back(system: Client) -> None:
    fields = product_input(description="Thick porcelain")
    receipt = submit(system, CREATE, **fields)
    assert receipt["status"] == "PENDING"
    command = system.settled(receipt["commandId"])
    assert (command["status"], command["type"], command["error"]) == ("SUCCEEDED", "CreateProduct", None)
    assert command["aggregateId"] == receipt["aggregateId"]
    assert command["completedAt"] >= command["submittedAt"]
    product = visible(system, receipt["aggregateId"], 1)
    assert product["sku"] == fields["sku"]
    assert (product["name"], product["description"]) == ("Espresso cup", "Thick porcelain")
    assert product["price"] == {"amount": 1250, "currency": "EUR"}
    assert product["createdAt"].endswith("+00:00")


def test_update_price_change_and_delete(system: Client) -> None:
    product_id = created(system)
    update = submit(system, UPDATE, id=product_id, name="  Tea cup ")
    price = submit(system, PRICE, id=product_id, price={"amount": 990, "currency": "USD"})
    assert system.settled(update["commandId"])["status"] == "SUCCEEDED"
    assert system.settled(price["commandId"])["status"] == "SUCCEEDED"
    product = visible(system, product_id, 3)
    assert (product["name"], product["price"]) == ("Tea cup", {"amount": 990, "currency": "USD"})
    assert product["updatedAt"] >= product["createdAt"]
    delete = submit(system, DELETE, id=product_id)
    assert system.settled(delete["commandId"])["status"] == "SUCCEEDED"
    wait_for(lambda: system.product(product_id) is None, 60, "the deleted product to disappear")


@pytest.mark.parametrize(
    ("setup", "mutation", "fields", "error"),
    [
        ("none", UPDATE, {"name": "x"}, "product not found"),
        ("none", PRICE, {"price": {"amount": 1, "currency": "EUR"}}, "product not found"),
        ("none", DELETE, {}, "product not found"),
        ("deleted", UPDATE, {"name": "x"}, "product deleted"),
        ("deleted", PRICE, {"price": {"amount": 1, "currency": "EUR"}}, "product deleted"),
        ("deleted", DELETE, {}, "product deleted"),
        ("live", CREATE, product_input(), "product already exists"),
    ],
)
def test_rejections(system: Client, setup: str, mutation: str, fields: dict[str, Any], error: str) -> None:
    product_id = str(uuid.uuid4()) if setup == "none" else created(system)
    if setup == "deleted":
        assert system.settled(submit(system, DELETE, id=product_id)["commandId"])["status"] == "SUCCEEDED"
    receipt = submit(system, mutation, id=product_id, **fields)
    command = system.settled(receipt["commandId"])
    assert (command["status"], command["error"]) == ("REJECTED", error)
    assert command["completedAt"] is not None


def test_a_live_sku_is_unique_and_deleting_frees_it(system: Client) -> None:
    shared = sku()
    first = created(system, sku=shared)
    second = submit(system, CREATE, **product_input(sku=shared))
    command = system.settled(second["commandId"])
    assert (command["status"], command["error"]) == ("REJECTED", f"sku {shared} is already in use")
    assert system.settled(submit(system, DELETE, id=first)["commandId"])["status"] == "SUCCEEDED"
    created(system, sku=shared)


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    (CREATE, product_input(sku="lower"), "sku"),
    (CREATE, product_input(sku="-LEAD"), "sku"),
    (CREATE, product_input(sku="A" * 33), "sku"),
    (CREATE, product_input(name="   "), "name"),
    (CREATE, product_input(name="n" * 201), "name"),
    (CREATE, product_input(description="d" * 5001), "description"),
    (CREATE, product_input(price={"amount": -1, "currency": "EUR"}), "amount"),
    (CREATE, product_input(price={"amount": 1_000_000_001, "currency": "EUR"}), "amount"),
    (CREATE, product_input(price={"amount": 1, "currency": "EURO"}), "currency"),
    (CREATE, product_input(price={"amount": 1, "currency": "eur"}), "currency"),
    (CREATE, product_input(id="not-a-uuid"), "id"),
    (UPDATE, {"id": str(uuid.uuid4())}, "name"),
    (UPDATE, {"id": str(uuid.uuid4()), "name": ""}, "name"),
    (UPDATE, {"id": "nope", "name": "x"}, "id"),
    (PRICE, {"id": str(uuid.uuid4()), "price": {"amount": 1, "currency": "XYZ"}}, "currency"),
    (DELETE, {"id": "12"}, "id"),
]


@pytest.mark.parametrize(("mutation", "fields", "word"), BAD_INPUTS)
def test_bad_input_is_refused_and_nothing_is_recorded(
    system: Client, mutation: str, fields: dict[str, Any], word: str
) -> None:
    command_id = str(uuid.uuid4())
    body = system.gql(mutation, input={**fields, "commandId": command_id})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert word in error["message"]
    assert system.command(command_id) is None


def test_a_command_id_that_is_not_a_uuid_is_refused(system: Client) -> None:
    body = system.gql(CREATE, input={**product_input(), "commandId": "abc"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_resubmitting_a_command_id_returns_the_first_receipt(system: Client) -> None:
    command_id, fields = str(uuid.uuid4()), product_input()
    first = submit(system, CREATE, commandId=command_id, **fields)
    system.settled(command_id)
    again = submit(system, CREATE, commandId=command_id, **fields)
    assert again == first
    assert [e["version"] for e in system.data(HISTORY, id=first["aggregateId"])["productHistory"]] == [1]
    other = system.gql(CREATE, input={**fields, "commandId": command_id, "name": "Other"})
    assert other["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert [e["version"] for e in system.data(HISTORY, id=first["aggregateId"])["productHistory"]] == [1]


def test_fifty_back_to_back_updates_apply_in_submission_order(system: Client) -> None:
    product_id = str(uuid.uuid4())
    receipts = [submit(system, CREATE, **product_input(id=product_id))]
    receipts += [submit(system, UPDATE, id=product_id, name=f"Name {n}") for n in range(50)]
    assert all(system.settled(r["commandId"])["status"] == "SUCCEEDED" for r in receipts)
    product = visible(system, product_id, 51)
    assert (product["version"], product["name"]) == (51, "Name 49")
    history = system.data(HISTORY, id=product_id)["productHistory"]
    assert [e["version"] for e in history] == list(range(1, 52))
    assert [e["data"]["changes"]["name"] for e in history[1:]] == [f"Name {n}" for n in range(50)]


def test_product_history_returns_the_events_in_order(system: Client) -> None:
    product_id = created(system)
    for mutation, fields in ((PRICE, {"price": {"amount": 5, "currency": "EUR"}}), (DELETE, {})):
        system.settled(submit(system, mutation, id=product_id, **fields)["commandId"])
    history = system.data(HISTORY, id=product_id)["productHistory"]
    assert [(e["version"], e["type"]) for e in history] == [
        (1, "ProductCreated"),
        (2, "ProductPriceChanged"),
        (3, "ProductDeleted"),
    ]
    assert all(e["streamId"] == product_id and e["recordedAt"].endswith("+00:00") for e in history)
    assert history[1]["data"]["price"] == {"amount": 5, "currency": "EUR"}


def test_250_products_page_through_by_cursor(system: Client) -> None:
    receipts = [submit(system, CREATE, **product_input(name=f"Paged {n}")) for n in range(250)]
    ours = {r["aggregateId"] for r in receipts}
    wait_for(lambda: system.product(receipts[-1]["aggregateId"]), 120, "the last product")
    for receipt in receipts:
        assert system.settled(receipt["commandId"])["status"] == "SUCCEEDED"
    wait_for(lambda: all(system.product(r["aggregateId"]) for r in receipts[::25]), 120, "the products")
    seen: list[str] = []
    after: str | None = None
    while True:
        page = system.data(PAGE, after=after)["products"]
        assert len(page["edges"]) <= 100
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert ours <= set(seen)


SEARCH = """query($filter: ProductFilter, $orderBy: ProductOrder, $after: String) {
  products(first: 2, filter: $filter, orderBy: $orderBy, after: $after) {
    totalCount edges { node { name price { amount } } } pageInfo { hasNextPage endCursor } } }"""


def test_search_sorts_and_pages_the_catalog_over_http(system: Client) -> None:
    tag = uuid.uuid4().hex[:8]
    for amount in (300, 100, 200):
        created(system, name=f"Search {tag} {amount}", price={"amount": amount, "currency": "EUR"})
    query = {"filter": {"search": tag.upper()}, "orderBy": {"field": "PRICE", "direction": "DESC"}}
    wait_for(lambda: system.data(SEARCH, **query)["products"]["totalCount"] == 3, 60, "3 products")
    first = system.data(SEARCH, **query)[
        "products"
    ]  # a page read once all 3 show (the count is read after it)
    rest = system.data(SEARCH, **query, after=first["pageInfo"]["endCursor"])["products"]
    amounts = [e["node"]["price"]["amount"] for e in first["edges"] + rest["edges"]]
    assert amounts == [300, 200, 100]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    other = system.gql(SEARCH, orderBy={"field": "NAME"}, after=first["pageInfo"]["endCursor"])
    assert [e["extensions"]["code"] for e in other["errors"]] == ["BAD_USER_INPUT"]


CATEGORY_PAGE = """query($category: String!) { products(first: 100, filter: {category: $category}) {
  edges { node { id categories } } } }"""


def test_categories_are_kept_changed_and_found_by_the_filter(system: Client) -> None:
    marker = uuid.uuid4().hex[:10]
    tools, garden = f"Tools {marker}", f"Garden {marker}"
    both = created(system, categories=[f" {tools} ", garden, tools.upper()])
    plain = created(system)
    assert visible(system, both, 1)["categories"] == [tools, garden]
    assert visible(system, plain, 1)["categories"] == []

    def found(category: str) -> list[str]:
        edges = system.data(CATEGORY_PAGE, category=category)["products"]["edges"]
        return [edge["node"]["id"] for edge in edges]

    assert found(tools.lower()) == [both]
    assert found(f"Tools {marker[:5]}") == []  # a whole category, not a part of one
    receipt = submit(system, UPDATE, id=both, categories=[garden])
    assert system.settled(receipt["commandId"])["status"] == "SUCCEEDED"
    assert visible(system, both, 2)["categories"] == [garden]
    assert found(tools) == [] and found(garden) == [both]
    history = system.data(HISTORY, id=both)["productHistory"]
    assert history[1]["data"]["changes"] == {"name": None, "description": None, "categories": [garden]}


def test_bad_categories_are_refused_before_anything_is_recorded(system: Client) -> None:
    response = system.gql(CREATE, input=product_input(categories=["a|b"]))
    assert response["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "'|'" in response["errors"][0]["message"]
    response = system.gql(CATEGORY_PAGE, category="x" * 101)
    assert response["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
