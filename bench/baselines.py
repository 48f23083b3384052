"""The ceilings of the parts eventshop is built on, measured on the same machine in the same run."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from bench.measure import median, timings
from bench.stack import CELERY, Stack
from store import db

QUERY = "query($id: ID!) { product(id: $id) { id sku name price { amount currency } version } }"


def celery_noop(stack: Stack, tasks: int) -> dict[str, float]:
    """No-op task round trips a second: send, run on a worker, result back, same settings."""
    stack.start(
        "noop-worker",
        [*CELERY, "-A", "bench.noop", "worker", "-Q", "bench", "-c", "2", "-l", "WARNING"],
        BENCH_RESULT_BACKEND=stack.result_backend,
    )
    os.environ["BENCH_RESULT_BACKEND"] = stack.result_backend
    from bench.noop import noop

    noop.delay().get(timeout=120)
    start = time.perf_counter()
    results = [noop.delay() for _ in range(tasks)]
    for result in results:
        result.get(timeout=120)
    elapsed = time.perf_counter() - start
    stack.processes.pop("noop-worker").terminate()
    return {"celery_noop_per_s": tasks / elapsed}


def raw_inserts(database: str, rows: int, single: int) -> dict[str, float]:
    """Single-row INSERT+COMMIT a second, and batched INSERT rows a second, through the same driver."""
    table = Table(
        "bench_raw", MetaData(), Column("id", Integer, primary_key=True), Column("payload", String(200))
    )
    engine = db.engine(database)
    table.drop(engine, checkfirst=True)
    table.create(engine)
    start = time.perf_counter()
    for n in range(single):
        with db.writing(database) as connection:
            connection.execute(insert(table).values(id=n, payload="x" * 100))
    single_rate = single / (time.perf_counter() - start)
    start = time.perf_counter()
    for chunk in range(single, single + rows, 1000):
        with db.writing(database) as connection:
            connection.execute(
                insert(table), [{"id": n, "payload": "x" * 100} for n in range(chunk, chunk + 1000)]
            )
    batched_rate = rows / (time.perf_counter() - start)
    table.drop(engine)
    return {"insert_commit_per_s": single_rate, "batched_insert_rows_per_s": batched_rate}


def primary_key_select(database: str, product_id: str, n: int) -> dict[str, float]:
    from store.schema import products

    def one() -> Any:
        with db.reading(database) as connection:
            return connection.execute(select(products).where(products.c.id == product_id)).first()

    return {"pk_select_p50_ms": median(timings(one, n)) * 1000}


def tartiflette_in_process(n: int) -> dict[str, float]:
    """The same `product(id)` query executed by Tartiflette in-process, resolvers answering at once."""
    from tartiflette import Resolver, Scalar, create_engine

    from api.graphql.engine import SDL
    from api.graphql.scalars import DateTimeScalar, JSONScalar

    Scalar("JSON", schema_name="bench")(JSONScalar)
    Scalar("DateTime", schema_name="bench")(DateTimeScalar)
    product = {
        "id": "00000000-0000-0000-0000-000000000001",
        "sku": "B-1",
        "name": "Bench",
        "price": {"amount": 1, "currency": "EUR"},
        "version": 1,
    }

    @Resolver("Query.product", schema_name="bench")
    async def resolve(*_: Any) -> dict[str, Any]:
        return product

    async def run() -> list[float]:
        engine = await create_engine(sdl=str(SDL), schema_name="bench")
        found = []
        for _ in range(n):
            start = time.perf_counter()
            await engine.execute(QUERY, variables={"id": product["id"]})
            found.append(time.perf_counter() - start)
        return found

    found = asyncio.run(run())
    return {"tartiflette_p50_ms": median(found) * 1000, "tartiflette_per_s": n / sum(found)}
