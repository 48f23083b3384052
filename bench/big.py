"""`python -m bench.big`: two of the issue's goals, measured on PostgreSQL + Redis.

1. End-to-end saturation (uniform and create-only mixes, 64 clients, as `python -m bench` runs
   them) on an empty store, then on a store already holding 100,000 products of 10 events each
   (1,000,000 events) whose read model the projector has caught up with, and whose mailbox holds
   100,000 completed commands. Goal: big / empty >= 0.9.
2. Rebuilding `products` from 100,000 and from 1,000,000 events: peak RSS the same.

Each store is a fresh database beside DATABASE_URL's, dropped at the end. Writes big.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import psutil
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select, text

from bench import scenarios
from bench.load import Mix
from bench.report import environment
from bench.stack import Stack
from store import db, eventstore, mailbox, settings
from store.schema import commands, products, projections, sku_claims
from workers.projections import PROJECTIONS

CHUNK = 10_000  # products written per transaction when filling a store
PORT = 18_790  # not `python -m bench`'s, so both may run on one machine


def store_events(url: str, count: int, per_product: int) -> list[str]:
    """`count` products of `per_product` events straight into the store, CHUNK products a
    transaction; returns their ids."""
    ids: list[str] = []
    started = time.monotonic()
    while len(ids) < count:
        ids += scenarios.bulk_streams(url, min(CHUNK, count - len(ids)), per_product)
        rate = len(ids) * per_product / (time.monotonic() - started)
        print(f"  stored {len(ids) * per_product:,} events ({rate:,.0f}/s)", flush=True)
    return ids


def record_commands(url: str, product_ids: list[str], partitions: int) -> None:
    """One SUCCEEDED CreateProduct command per product in the mailbox, as the API and worker would
    have left them (their ids are not in the events' metadata)."""
    at = datetime.now(UTC)
    for start in range(0, len(product_ids), CHUNK):
        rows = []
        for product_id in product_ids[start : start + CHUNK]:
            command_id = str(uuid.uuid4())
            payload = {
                "product_id": product_id,
                "sku": f"A-{command_id[:12].upper()}",
                "name": "Bench",
                "description": "",
                "price": {"amount": 1, "currency": "EUR"},
            }
            rows.append(
                {
                    "id": command_id,
                    "type": "CreateProduct",
                    "aggregate_type": "Product",
                    "aggregate_id": product_id,
                    "partition": mailbox.partition_of(product_id, partitions),
                    "payload": payload,
                    "status": mailbox.SUCCEEDED,
                    "attempts": 0,
                    "actor": "anonymous",
                    "correlation_id": command_id,
                    "submitted_at": at,
                    "completed_at": at,
                }
            )
        with db.writing(url) as connection:
            connection.execute(insert(commands), rows)


def wait_for_read_model(url: str, stall: float = 120, every: float = 5) -> None:
    """Until every projection's checkpoint is at the head of the store, printing progress; gives
    up when they stand still for `stall` seconds.

    Meanwhile the read tables are analyzed as autovacuum would (it may be off, as on the server
    this was written on): else the projector's plan for `products WHERE id IN (...)`, cached
    while the table was empty, stays a sequential scan and catching up slows as the table grows."""
    read_tables = ", ".join(table.name for p in PROJECTIONS.values() for table in p.tables)
    last, moved = None, time.monotonic()
    while True:
        with db.reading(url) as connection:
            connection.execute(text(f"ANALYZE {read_tables}"))
            head = eventstore.head(connection)
            found = {row.name: row for row in connection.execute(select(projections))}
        positions = {name: found[name].position if name in found else 0 for name in PROJECTIONS}
        print(f"  projections at {positions} of {head:,}", flush=True)
        if halted := [name for name, row in found.items() if row.status != "RUNNING"]:
            raise RuntimeError(f"projections halted: {halted}")
        if all(position >= head for position in positions.values()):
            return
        if positions != last:
            last, moved = positions, time.monotonic()
        elif time.monotonic() - moved > stall:
            raise TimeoutError(f"the projections stood still for {stall:.0f}s")
        time.sleep(every)


def claim_skus(url: str) -> None:
    """Fill `sku_claims` from the read table, as the inline projection would have in each append."""
    with db.writing(url) as connection:
        connection.execute(
            insert(sku_claims).from_select(["sku", "product_id"], select(products.c.sku, products.c.id))
        )


def settle(url: str) -> None:
    """VACUUM ANALYZE, as autovacuum would keep a store that grew over time, before each run: the
    figures must depend neither on whether it runs during one, nor, where it is off, on plans
    cached while tables were smaller (a sequential scan of a table that has since grown)."""
    with db.reading(url) as connection:
        connection.execute(text("VACUUM ANALYZE"))


def autovacuum(url: str) -> str:
    """The server's `autovacuum` setting: `off` explains plans that never adapt to a table's size."""
    with db.reading(url) as connection:
        return str(connection.execute(text("SHOW autovacuum")).scalar())


def cpu_seconds(url: str) -> tuple[float, dict[int, float]]:
    """CPU seconds the whole machine has been busy, and those of each of this bench's processes
    and of PostgreSQL's serving `url`'s database or all of them (its background processes): to
    tell how much CPU others took from a run on a shared machine."""
    with db.reading(url) as connection:
        serving = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL")
        ).scalars()
        server = [psutil.Process(pid) for pid in serving if psutil.pid_exists(pid)]
    times = psutil.cpu_times()
    me = psutil.Process()
    known = {}
    for process in [me, *me.children(recursive=True), *server]:
        with contextlib.suppress(psutil.Error):
            used = process.cpu_times()
            known[process.pid] = used.user + used.system
    return sum(times) - times.idle - times.iowait, known


def saturation(api: str, url: str, pool: list[str], duration: float) -> dict[str, Any]:
    """`python -m bench`'s uniform and create-only saturation runs, without the raw series, and
    the CPU seconds that processes other than the system, this bench and the database's
    PostgreSQL backends took meanwhile (roughly: what ours used in processes that ended during the
    run counts as others')."""
    found = {}
    for label, mix in (
        ("uniform saturation", Mix(pool)),
        ("create-only saturation", Mix(pool, creates_only=True)),
    ):
        settle(url)
        (busy, known), started = cpu_seconds(url), time.monotonic()
        run = scenarios.end_to_end(api, url, mix, rate=None, clients=64, duration=duration)
        (busy_after, known_after), wall = cpu_seconds(url), time.monotonic() - started
        ours = sum(seconds - known.get(pid, 0.0) for pid, seconds in known_after.items())
        found[label] = {k: v for k, v in run.items() if k not in ("latencies_ms", "completed_at")}
        found[label]["wall_s"] = wall
        found[label]["cpu_s_available"] = wall * (os.cpu_count() or 1)
        found[label]["cpu_s_others"] = max(0.0, busy_after - busy - ours)
        print(
            f"  {label}: {run['completed_per_s']:,.0f} completed/s"
            f" (others took {found[label]['cpu_s_others']:.1f} of {found[label]['cpu_s_available']:.0f}"
            " CPU-s)",
            flush=True,
        )
    return found


def table(results: dict[str, Any]) -> list[dict[str, Any]]:
    """(figure, small, big, big / small, goal) rows: empty vs big store, then 100k vs 1M rebuild."""
    empty, big = results["e2e"]["empty"], results["e2e"]["big"]
    found = []
    for label in empty:
        for key, name, goal in (
            ("completed_per_s", "completed commands/s", ">= 0.90"),
            ("accepted_per_s", "accepted mutations/s", ""),
            ("latency_p99_ms", "latency p99 ms", ""),
            ("cpu_s_others", "CPU-s other processes took", ""),
        ):
            found.append(
                {
                    "figure": f"{label}: {name}",
                    "small": empty[label][key],
                    "big": big[label][key],
                    "goal": goal,
                }
            )
    small, large = results["rebuild"].values()
    for key, name, goal in (
        ("rebuild_events_per_s", "rebuild events/s", ""),
        ("rebuild_peak_rss_mib", "rebuild peak RSS MiB", "~ 1.00"),
    ):
        found.append({"figure": name, "small": small[key], "big": large[key], "goal": goal})
    for row in found:
        row["ratio"] = row["big"] / row["small"] if row["small"] else None
    return found


def show(results: dict[str, Any]) -> None:
    s = results["sizes"]
    title = (
        f"eventshop big-store bench — {results['environment']['backend']}, {results['environment']['date']}"
        f"\nsmall/big: e2e on an empty store / {s['events']:,} events and {s['products']:,} products;"
        f" rebuild from {s['rebuild'][0]:,} / {s['rebuild'][1]:,} events"
    )
    view = Table(title=title)
    for column in ("figure", "small", "big", "big / small", "goal"):
        view.add_column(column, justify="left" if column == "figure" else "right")
    for row in results["table"]:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        view.add_row(row["figure"], f"{row['small']:,.1f}", f"{row['big']:,.1f}", ratio, row["goal"])
    Console(width=140).print(view)


def main(
    quick: Annotated[
        bool, typer.Option(help="2,000 products / 20,000 events and 3 s runs: a smoke test.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Folder for big.json and the processes' logs.")] = Path(
        "bench-results"
    ),
) -> None:
    """Saturation with a big store beside an empty one, and rebuild memory at 10x the events."""
    began = time.monotonic()
    count, per_product = (2_000, 10) if quick else (100_000, 10)
    duration, pool_size = (3.0, 100) if quick else (10.0, 500)
    rebuild_sizes = (2_000, 20_000) if quick else (100_000, 1_000_000)
    stack = Stack(out.resolve() / "run-big", sqlite=False)
    partitions = settings.load().partitions
    results: dict[str, Any] = {
        "environment": environment("PostgreSQL + Redis"),
        "sizes": {
            "products": count,
            "events": count * per_product,
            "commands": count,
            "duration_s": duration,
            "rebuild": rebuild_sizes,
        },
        "e2e": {},
        "rebuild": {},
    }
    try:
        print("empty store", flush=True)
        url = stack.fresh_database()
        results["environment"]["autovacuum"] = autovacuum(url)
        api = stack.start_system(port=PORT)
        results["e2e"]["empty"] = saturation(api, url, scenarios.seed_products(api, url, pool_size), duration)
        stack.stop_all()

        print(f"big store: {count:,} products x {per_product} events", flush=True)
        url = stack.fresh_database()
        filling = time.monotonic()
        stored = store_events(url, count, per_product)
        record_commands(url, stored, partitions)
        results["fill_s"] = time.monotonic() - filling
        catching_up = time.monotonic()
        api = stack.start_system(port=PORT + 1)
        wait_for_read_model(url)
        results["catch_up_s"] = time.monotonic() - catching_up
        claim_skus(url)
        scenarios.seed_products(api, url, pool_size)  # the same warm-up as the empty store had
        pool = random.Random(7).sample(stored, pool_size)
        results["e2e"]["big"] = saturation(api, url, pool, duration)
        stack.stop_all()

        for total in rebuild_sizes:
            print(f"rebuild from {total:,} events", flush=True)
            store_events(stack.fresh_database(), total // 10, 10)
            results["rebuild"][str(total)] = found = scenarios.rebuild_stored(stack.settings(), total)
            print(f"  {found['rebuild_events_per_s']:,.0f} events/s, {found['rebuild_peak_rss_mib']:.0f} MiB")
    finally:
        stack.stop_all(keep_broker=False)
        stack.drop_databases()
    results["elapsed_s"] = time.monotonic() - began
    results["table"] = table(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "big.json").write_text(json.dumps(results, indent=2, default=float))
    show(results)
    print(f"{results['elapsed_s'] / 60:.1f} min; wrote {out / 'big.json'}")


if __name__ == "__main__":
    typer.run(main)
