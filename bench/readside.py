"""`python -m bench.readside`: the read side on a big store, over HTTP against the real API.

Loads 1,000,000 products (one event each) and then 100,000 price changes straight into a fresh
PostgreSQL store, in batches recorded at successive instants, lets the projector code build every
read table (timed), and measures: a page of 20 of the live catalog in every order at random depths
and with a search, a page of 20 of the catalog as it was at five instants, a product at an
instant, and the count of the whole catalog. `--quick` is a small smoke run.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import aiohttp
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from api.read import catalog, pages
from bench import credentials
from bench.measure import percentile
from bench.report import environment
from bench.stack import Stack
from domain.money import Money
from domain.product import ProductCreated, ProductPriceChanged
from store import db, eventstore, registry
from store.schema import products
from workers import projector
from workers.projections import PROJECTIONS

app = typer.Typer(add_completion=False)
WORDS = ["amber", "basalt", "cedar", "dune", "ember", "fjord", "glacier", "heath", "iris", "juniper"]
CHUNK = 10_000
PAGE = """query($after: String, $order: ProductOrder, $filter: ProductFilter, $asOf: DateTime) {
  products(first: 20, after: $after, orderBy: $order, filter: $filter, asOf: $asOf) {
    edges { node { id name price { amount } } } pageInfo { endCursor } } }"""
PRODUCT_AT = "query($id: ID!, $asOf: DateTime) { product(id: $id, asOf: $asOf) { version price { amount } } }"
COUNT = "{ products(first: 0) { totalCount } }"


def load(database: str, count: int, changes: int, rng: random.Random) -> tuple[list[str], list[datetime]]:
    """`count` products, then `changes` price changes, CHUNK events per transaction; returns the
    product ids and the instant each transaction was recorded at."""
    ids: list[str] = []
    instants: list[datetime] = []
    for start in range(0, count, CHUNK):
        at = datetime.now(UTC)
        appends = []
        for n in range(start, min(count, start + CHUNK)):
            product_id = str(uuid.uuid4())
            name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n}"
            sku = f"R-{uuid.uuid4().hex[:12].upper()}"
            created = ProductCreated(product_id, sku, name, "", Money(rng.randrange(100, 100_000), "EUR"), at)
            appends.append(_append(product_id, 0, created))
            ids.append(product_id)
        _commit(database, appends, at)
        instants.append(at)
    changed = rng.sample(ids, changes)
    for start in range(0, changes, CHUNK):
        at = datetime.now(UTC)
        batch = changed[start : start + CHUNK]
        price = [ProductPriceChanged(i, Money(rng.randrange(100, 100_000), "EUR"), at) for i in batch]
        _commit(database, [_append(event.product_id, 1, event) for event in price], at)
        instants.append(at)
    return ids, instants


def _append(product_id: str, version: int, event: Any) -> eventstore.StreamAppend:
    return eventstore.StreamAppend(product_id, "Product", version, [registry.encode_event(event, {})])


def _commit(database: str, appends: list[eventstore.StreamAppend], at: datetime) -> None:
    with db.writing(database) as connection:
        eventstore.append_streams(connection, appends, at)


async def _timed(url: str, query: str, variables: list[dict[str, Any]]) -> list[float]:
    """Seconds each request took, one at a time; every answer must be free of errors."""
    found = []
    async with aiohttp.ClientSession(headers=credentials.headers()) as session:
        for values in variables:
            start = time.perf_counter()
            async with session.post(url, json={"query": query, "variables": values}) as response:
                body = await response.json()
            found.append(time.perf_counter() - start)
            assert "errors" not in body, body
    return found


def _cursors(database: str, order: pages.Order, depths: list[int], table: Any = products) -> list[str]:
    with db.reading(database) as connection:
        query = pages.page_query(table, catalog.PRODUCTS, [], order, None)
        return [
            pages.encode_cursor(
                connection.execute(query.offset(depth).limit(1)).one(), catalog.PRODUCTS, order
            )
            for depth in depths
        ]


def _analyze(database: str, statement: str = "ANALYZE") -> None:
    """What autovacuum would do while tables grow (it is off on the bench machine): without fresh
    statistics, a statement psycopg prepared while a table was empty keeps a plan for an empty
    table."""
    with db.engine(database).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(statement))


def _figure(times: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(times, 50) * 1000, "p99_ms": percentile(times, 99) * 1000}


@app.command()
def main(
    quick: Annotated[bool, typer.Option(help="20,000 products and a few requests: a smoke run.")] = False,
    out: Annotated[Path, typer.Option(help="Folder for readside.json and logs.")] = Path("bench-results"),
) -> None:
    """Measure the read side on 1,000,000 products (PostgreSQL + Redis from DATABASE_URL, BROKER_URL)."""
    count, changes, samples = (20_000, 4_000, 10) if quick else (1_000_000, 100_000, 50)
    rng = random.Random(11)
    stack = Stack(out.resolve() / "readside", sqlite=False)
    results: dict[str, Any] = {"environment": environment("PostgreSQL + Redis")}
    try:
        database = stack.fresh_database()
        started = time.perf_counter()
        ids, instants = load(database, count, changes, rng)
        results["load"] = {
            "products": count,
            "events": count + changes,
            "seconds": time.perf_counter() - started,
        }
        for name in PROJECTIONS:
            started, applied = time.perf_counter(), 0
            while batch := projector.project_batch(database, name, 5000):
                applied += batch
                if applied % 100_000 < 5000:
                    _analyze(database)
            results["load"][f"projection {name} events/s"] = applied / (time.perf_counter() - started)
        _analyze(database, "VACUUM ANALYZE")
        url = stack.start_system(port=18_766)
        figures: dict[str, dict[str, float]] = {}
        asyncio.run(_timed(url, PAGE, [{}] * 5))
        for field in (pages.CREATED_AT, *catalog.PRODUCTS.fields):
            for descending in (False, True):
                order = pages.Order(field, descending)
                depths = [rng.randrange(count - 100) for _ in range(samples)]
                variables = [
                    {"after": cursor, "order": {"field": field, "direction": "DESC" if descending else "ASC"}}
                    for cursor in _cursors(database, order, depths)
                ]
                figures[f"live page of 20, {order.name}, random depth"] = _figure(
                    asyncio.run(_timed(url, PAGE, variables))
                )
        searches = [{"filter": {"search": uuid.uuid4().hex[:4]}} for _ in range(samples)]
        figures["live page of 20, search (substring of sku or name)"] = _figure(
            asyncio.run(_timed(url, PAGE, searches))
        )
        for share in (0.1, 0.5, 0.9):
            at = instants[int(share * (len(instants) - 1))].isoformat()
            for order_by in ({"field": "CREATED_AT"}, {"field": "NAME"}):
                variables = [{"asOf": at, "order": order_by}] * samples
                label = f"catalog at {share:.0%} of the history, page of 20, {order_by['field']}"
                figures[label] = _figure(asyncio.run(_timed(url, PAGE, variables)))
        at_instants = [
            {"id": rng.choice(ids), "asOf": rng.choice(instants).isoformat()} for _ in range(samples)
        ]
        figures["product(id, asOf)"] = _figure(asyncio.run(_timed(url, PRODUCT_AT, at_instants)))
        figures["totalCount of the whole catalog"] = _figure(asyncio.run(_timed(url, COUNT, [{}] * 5)))
        results["figures"] = figures
    finally:
        stack.stop_all(keep_broker=False)
        stack.drop_databases()
    out.mkdir(parents=True, exist_ok=True)
    (out / "readside.json").write_text(json.dumps(results, indent=2, default=str))
    table = Table(
        "figure", "p50 ms", "p99 ms", title=f"read side, {count:,} products, {count + changes:,} events"
    )
    for label, figure in results["figures"].items():
        table.add_row(label, f"{figure['p50_ms']:.1f}", f"{figure['p99_ms']:.1f}")
    Console().print(table)
    Console().print(results["load"])


if __name__ == "__main__":
    app()
