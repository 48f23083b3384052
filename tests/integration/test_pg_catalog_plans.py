"""On PostgreSQL with 100,000 products, every catalog page is an index scan: each sort order in
both directions, deep cursors, and substring search (trigram indexes). The plans are printed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Connection, text

from api.read import catalog, pages
from store import db
from store.schema import products

PRODUCTS = 100_000
FILL = text(
    "INSERT INTO products (id, sku, name, description, price_amount, price_currency, version,"
    " created_at, updated_at, created_position)"
    " SELECT md5(g::text), 'SKU-' || g, 'product ' || md5(g::text), '', (g * 37) % 100000,"
    " CASE WHEN g % 3 = 0 THEN 'USD' ELSE 'EUR' END, 1, now(), now() - (g % 5000) * interval '1 minute', g"
    " FROM generate_series(1, :count) AS g"
)


@pytest.fixture(scope="module")
def filled(make_database: Any) -> str:
    url: str = make_database()
    with db.writing(url) as connection:
        connection.execute(FILL, {"count": PRODUCTS})
    with db.engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE products"))  # as autovacuum would
    return url


def plan(connection: Connection, query: Any) -> dict[str, Any]:
    compiled = query.limit(21).compile(dialect=connection.dialect)
    row = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params).scalar_one()
    found: dict[str, Any] = (row if isinstance(row, list) else json.loads(row))[0]["Plan"]
    return found


def nodes(node: dict[str, Any]) -> list[str]:
    return [f"{node['Node Type']} {node.get('Index Name', '')}".strip()] + [
        name for child in node.get("Plans", []) for name in nodes(child)
    ]


def cursor_at(url: str, order: pages.Order, depth: int) -> str:
    """The cursor of the product `depth` rows into `order`."""
    with db.reading(url) as connection:
        row = connection.execute(
            pages.page_query(products, catalog.PRODUCTS, [], order, None).offset(depth).limit(1)
        ).one()
    return pages.encode_cursor(row, catalog.PRODUCTS, order)


@pytest.mark.parametrize("field", ["NAME", "PRICE", "UPDATED_AT", "CREATED_AT"])
@pytest.mark.parametrize("descending", [False, True])
def test_a_deep_page_in_every_order_is_an_index_scan(filled: str, field: str, descending: bool) -> None:
    order = pages.Order(field, descending)
    after = cursor_at(filled, order, 90_000)
    with db.reading(filled) as connection:
        found = nodes(plan(connection, pages.page_query(products, catalog.PRODUCTS, [], order, after)))
    print(order.name, found)
    assert found[0] == "Limit" and found[1].startswith("Index Scan"), found
    assert not any(node.startswith("Seq Scan") or node == "Sort" for node in found), found


@pytest.mark.parametrize("given", [{"search": "d3b07"}, {"skuPrefix": "SKU-4711"}])
def test_a_search_uses_the_trigram_indexes(filled: str, given: dict[str, Any]) -> None:
    conditions = catalog.filters(products, given)
    with db.reading(filled) as connection:
        found = nodes(
            plan(connection, pages.page_query(products, catalog.PRODUCTS, conditions, pages.Order(), None))
        )
    print(given, found)
    assert any("trgm" in node for node in found), found
    assert not any(node.startswith("Seq Scan") for node in found), found
