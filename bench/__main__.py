"""`python -m bench`: run every scenario and baseline, print the table, write JSON and a PNG chart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bench import baselines, orders, scenarios, stages
from bench.eventsourcing_baseline import creates_per_s
from bench.load import Mix
from bench.report import environment, write
from bench.stack import Stack

app = typer.Typer(add_completion=False)


@app.command()
def main(
    sqlite: Annotated[
        bool, typer.Option("--sqlite", help="SQLite + the embedded broker, as `eventshop up` runs.")
    ] = False,
    quick: Annotated[
        bool, typer.Option(help="Short runs and small data: a smoke test, not figures.")
    ] = False,
    big: Annotated[bool, typer.Option(help="Rebuild from 1,000,000 events instead of 100,000.")] = False,
    out: Annotated[Path, typer.Option(help="Folder for results.json, results.png and logs.")] = Path(
        "bench-results"
    ),
) -> None:
    """Benchmark eventshop against PostgreSQL + Redis (DATABASE_URL, BROKER_URL) or SQLite."""
    duration = 3.0 if quick else 10.0
    stack = Stack(out.resolve() / "run", sqlite)
    results: dict[str, Any] = {
        "environment": environment("SQLite + embedded broker" if sqlite else "PostgreSQL + Redis")
    }
    try:
        database = stack.fresh_database()
        url = stack.start_system(port=18_765)
        products = scenarios.seed_products(url, database, 100 if quick else 500)
        e2e: dict[str, Any] = {}
        for rate in (100, 200) if quick else (100, 200, 400):
            e2e[f"uniform {rate}/s"], results[f"stages uniform {rate}/s"] = stages.measured(
                url,
                lambda rate=rate: scenarios.end_to_end(
                    url, database, Mix(products), rate=rate, clients=0, duration=duration
                ),
            )
        e2e["uniform saturation"] = scenarios.end_to_end(
            url, database, Mix(products), rate=None, clients=64, duration=duration
        )
        e2e["create-only saturation"] = scenarios.end_to_end(
            url, database, Mix(products, creates_only=True), rate=None, clients=64, duration=duration
        )
        e2e["create-only, 16 clients"] = scenarios.end_to_end(
            url, database, Mix(products, creates_only=True), rate=None, clients=16, duration=duration
        )
        e2e["hot 200/s"] = scenarios.end_to_end(
            url, database, Mix(products, hot=True), rate=200, clients=0, duration=duration
        )
        e2e["hot saturation"] = scenarios.end_to_end(
            url, database, Mix(products, hot=True), rate=None, clients=64, duration=duration
        )
        skus = orders.stock_up(url, database, products, 20)
        e2e["orders placed to RESERVED, 32 clients"] = orders.place_orders(url, database, skus, 32, duration)
        results["e2e"] = e2e
        results["queries"] = scenarios.queries(url, products[-1], duration / 2)
        results["memory"] = scenarios.api_memory(
            url, stack.processes["web"].pid, 1_000 if quick else 10_000, warm_up=500 if quick else 5_000
        )
        stack.stop_all()
        e2e.update(procfile(stack, duration))
        base = baselines.celery_noop(stack, 500 if quick else 3000)
        base.update(baselines.primary_key_select(database, products[-1], 200 if quick else 2000))
        base.update(baselines.tartiflette_in_process(200 if quick else 2000))
        database = stack.fresh_database()
        base["eventsourcing_creates_per_s"] = creates_per_s(database, 300 if quick else 2000)
        base.update(baselines.raw_inserts(database, 20_000 if quick else 100_000, 300 if quick else 2000))
        results["baselines"] = base
        storage = scenarios.append(database, 300 if quick else 2000, 1)
        storage.update(scenarios.append(database, 100 if quick else 500, 10))
        for per_transaction in (10, 100):
            storage.update(scenarios.write_ceiling(database, 4, per_transaction, 2.0 if quick else 8.0))
        storage.update(scenarios.aggregate_load(database, (10, 1000, 10000), 10 if quick else 50))
        storage.update(
            scenarios.rebuild(stack.settings(), 20_000 if quick else (1_000_000 if big else 100_000))
        )
        results["storage"] = storage
    finally:
        stack.stop_all(keep_broker=False)
        stack.drop_databases()
    write(results, out)


def procfile(stack: Stack, duration: float) -> dict[str, Any]:
    """The Procfile's topology under honcho, as users run it: paced and saturated creates."""
    database = stack.fresh_database()
    url = stack.start_procfile(port=18_865)
    try:
        products = scenarios.seed_products(url, database, 100)
        found = {
            f"Procfile {name}": scenarios.end_to_end(
                url, database, mix, rate=rate, clients=64, duration=duration
            )
            for name, mix, rate in (
                ("uniform 200/s", Mix(products), 200),
                ("create-only saturation", Mix(products, creates_only=True), None),
            )
        }
    finally:
        stack.stop_all()
    return found


if __name__ == "__main__":
    app()
