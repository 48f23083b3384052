"""Catalog search: every filter, every sort order in both directions, keyset cursors that stay
valid while the catalog changes, and refusals of cursors from elsewhere."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert

from api.graphql.errors import UserInputError
from api.read import pages, queries
from store import db
from store.schema import products

WORDS = ["amber", "basalt", "cedar", "dune", "ember", "fjord"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIELDS = {
    "NAME": "name",
    "PRICE": "price_amount",
    "UPDATED_AT": "updated_at",
    "CREATED_AT": "created_position",
}


def row(position: int, **values: Any) -> dict[str, Any]:
    found = {
        "id": str(uuid.uuid4()),
        "sku": f"SKU-{position:04d}",
        "name": f"{WORDS[position % len(WORDS)]}{position:03d}",
        "description": "",
        "price_amount": (position * 37) % 11 * 100,
        "price_currency": "EUR" if position % 3 else "USD",
        "version": 1,
        "created_at": T0 + timedelta(seconds=position),
        "updated_at": T0 + timedelta(seconds=(position * 7) % 13),
        "created_position": position,
    }
    return {**found, **values}


@pytest.fixture
def catalog_rows(database: str) -> list[dict[str, Any]]:
    rows = [row(n) for n in range(1, 41)]
    random.Random(7).shuffle(rows)
    with db.writing(database) as connection:
        connection.execute(insert(products), rows)
    return rows


def every_page(database: str, size: int, **arguments: Any) -> list[str]:
    """The names of every product, page after page of `size`, following the cursors."""
    names: list[str] = []
    after = None
    while True:
        page = queries.product_page(database, size, after, arguments.get("filter"), arguments.get("orderBy"))
        names += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    ("field", "direction"),
    list(itertools.product(["NAME", "PRICE", "UPDATED_AT", "CREATED_AT"], ["ASC", "DESC"])),
)
def test_pages_in_every_order_list_every_product_once_in_order(
    database: str, catalog_rows: list[dict[str, Any]], field: str, direction: str
) -> None:
    column = FIELDS[field]
    expected = sorted(
        catalog_rows, key=lambda r: (r[column], r["created_position"]), reverse=direction == "DESC"
    )
    order = {"field": field, "direction": direction}
    assert every_page(database, 7, orderBy=order) == [r["name"] for r in expected]


def test_filters_narrow_the_catalog(database: str, catalog_rows: list[dict[str, Any]]) -> None:
    def names(**given: Any) -> set[str]:
        return set(every_page(database, 100, filter=given))

    assert names(search="EMBER") == {r["name"] for r in catalog_rows if "ember" in r["name"]}
    assert names(search="sku-001") == {r["name"] for r in catalog_rows if r["sku"].startswith("SKU-001")}
    assert names(skuPrefix="sku-002") == {r["name"] for r in catalog_rows if r["sku"].startswith("SKU-002")}
    assert names(currency="usd") == {r["name"] for r in catalog_rows if r["price_currency"] == "USD"}
    assert names(priceMin=300, priceMax=500) == {
        r["name"] for r in catalog_rows if 300 <= r["price_amount"] <= 500
    }
    assert names(search="%") == names(search="_") == set()
    both = names(currency="EUR", priceMin=800)
    assert both == {
        r["name"] for r in catalog_rows if r["price_currency"] == "EUR" and r["price_amount"] >= 800
    }


def test_the_total_counts_what_the_filter_matches(database: str, catalog_rows: list[dict[str, Any]]) -> None:
    page = queries.product_page(database, 5, None, {"currency": "USD"}, None)
    assert pages.count(*page["count"]) == len([r for r in catalog_rows if r["price_currency"] == "USD"])


def test_a_cursor_stays_valid_while_products_come_and_go(
    database: str, catalog_rows: list[dict[str, Any]]
) -> None:
    order = {"field": "NAME", "direction": "ASC"}
    by_name = sorted(catalog_rows, key=lambda r: r["name"])
    first = queries.product_page(database, 10, None, None, order)
    cursor = first["pageInfo"]["endCursor"]
    with db.writing(database) as connection:
        connection.execute(insert(products), [row(100, name="aaaa-before"), row(101, name="zzzz-after")])
        connection.execute(delete(products).where(products.c.id == by_name[10]["id"]))
    rest = every_page_after(database, cursor, order)
    assert rest == [r["name"] for r in by_name[11:]] + ["zzzz-after"]


def every_page_after(database: str, after: str, order: dict[str, str]) -> list[str]:
    names: list[str] = []
    cursor: str | None = after
    while cursor:
        page = queries.product_page(database, 10, cursor, None, order)
        names += [edge["node"]["name"] for edge in page["edges"]]
        cursor = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    return names


def test_cursors_of_another_ordering_or_made_up_are_refused(
    database: str, catalog_rows: list[dict[str, Any]]
) -> None:
    by_price = queries.product_page(database, 3, None, None, {"field": "PRICE"})["pageInfo"]["endCursor"]
    by_default = queries.product_page(database, 3, None, None, None)["pageInfo"]["endCursor"]
    with pytest.raises(UserInputError, match="another ordering"):
        queries.product_page(database, 3, by_price, None, {"field": "NAME"})
    with pytest.raises(UserInputError, match="another ordering"):
        queries.product_page(database, 3, by_default, None, {"field": "PRICE", "direction": "DESC"})
    for made_up in ["x", "cHJvZHVjdHM6WzEsMiwzXQ==", "cHJvZHVjdHM6WyJQUklDRTpBU0MiLCJhIiwxXQ=="]:
        with pytest.raises(UserInputError, match="not a cursor"):
            queries.product_page(database, 3, made_up, None, {"field": "PRICE"})
    with pytest.raises(UserInputError, match="at most"):
        queries.product_page(database, 3, None, {"search": "x" * 101}, None)
