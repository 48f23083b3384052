"""The scenarios: end to end, queries, append, aggregate load and rebuild."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import resource
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from sqlalchemy import insert, update

from bench import credentials
from bench.load import (
    CREATE,
    Mix,
    Observer,
    Sample,
    closed_loop,
    completions,
    open_loop,
    pending,
    read_model_latencies,
    send_one,
)
from bench.measure import median, percentile, timings
from domain.money import Money
from domain.product import ProductCreated, ProductPriceChanged, decider
from store import db, eventstore, mailbox, registry, snapshots
from store.codec import to_json
from store.schema import event_head, events
from store.settings import Settings
from workers import command_handler, projector
from workers import rebuild as rebuilding


def seed_products(url: str, database: str, count: int) -> list[str]:
    """Create `count` products through the API (closed loop), and wait until they are readable."""

    def make() -> tuple[str, dict[str, Any]]:
        sku = f"SEED-{uuid.uuid4().hex[:12].upper()}"
        return CREATE, {"i": {"sku": sku, "name": "Seed", "price": {"amount": 100, "currency": "EUR"}}}

    samples: list[Sample] = []
    while len([s for s in samples if s.ok]) < count:
        samples += asyncio.run(closed_loop(url, make, 16, 1.0))
    ids = {s.command_id for s in samples if s.ok and s.command_id}
    _drain(database, ids)
    with db.reading(database) as connection:
        from store.schema import commands

        rows = connection.execute(commands.select().where(commands.c.id.in_(ids))).all()
    return [row.aggregate_id for row in rows][:count]


def _drain(database: str, ids: set[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while pending(database, ids) and time.monotonic() < deadline:
        time.sleep(0.1)


def end_to_end(
    url: str, database: str, mix: Mix, *, rate: float | None, clients: int, duration: float
) -> dict[str, Any]:
    """Offered load (open loop at `rate`) or saturation (closed loop of `clients`) through HTTP."""
    observer = Observer(database)
    observer.start()
    started = time.time()
    if rate is None:
        samples = asyncio.run(closed_loop(url, mix, clients, duration))
    else:
        samples = asyncio.run(open_loop(url, mix, rate, duration))
    sent = max(s.acked for s in samples) - min(s.started for s in samples)
    ids = {s.command_id for s in samples if s.ok and s.command_id}
    _drain(database, ids)
    projector_head = time.monotonic() + 60
    while time.monotonic() < projector_head and projector.behind(database):
        time.sleep(0.05)
    time.sleep(0.1)
    observer.stop.set()
    observer.join()
    done = completions(database, ids)
    latencies = read_model_latencies(samples, observer)
    offered = {"offered_per_s": rate, "clients": clients if rate is None else None}
    return {**offered, **outcome(samples, len(ids) / sent, [t - started for t in done], latencies)}


def outcome(
    samples: list[Sample], accepted_per_s: float, done: list[float], latencies: list[float]
) -> dict[str, Any]:
    """A run's figures: `done` holds when each command completed, in seconds from the start."""
    span = max(done) if done else float("nan")
    return {
        "accepted_per_s": accepted_per_s,
        "rejected_requests": len([s for s in samples if not s.ok]),
        "completed_per_s": len(done) / span,
        "latency_p50_ms": percentile(latencies, 50) * 1000,
        "latency_p95_ms": percentile(latencies, 95) * 1000,
        "latency_p99_ms": percentile(latencies, 99) * 1000,
        "latencies_ms": [latency * 1000 for latency in latencies],
        "completed_at": sorted(done),
    }


def queries(url: str, product_id: str, duration: float) -> dict[str, float]:
    """`product(id)` and `products(first: 20)` over HTTP: requests/s with 8 clients, latency with 1."""
    found: dict[str, float] = {}
    documents = {
        "product": (
            "query($id: ID!) { product(id: $id) { id sku name price { amount currency } version } }",
            {"id": product_id},
        ),
        "products": ("{ products(first: 20) { edges { node { id name } } pageInfo { endCursor } } }", {}),
    }
    for name, request in documents.items():
        make = functools.partial(_same, request)
        samples = asyncio.run(closed_loop(url, make, 8, duration))
        found[f"{name}_per_s"] = len([s for s in samples if s.ok]) / duration
        alone = asyncio.run(closed_loop(url, make, 1, duration / 2))
        times = [s.acked - s.started for s in alone if s.ok]
        found[f"{name}_p50_ms"] = percentile(times, 50) * 1000
        found[f"{name}_p99_ms"] = percentile(times, 99) * 1000
    return found


def _same(request: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    return request


def _created(product_id: str, n: int) -> ProductCreated:
    return ProductCreated(
        product_id, f"A-{uuid.uuid4().hex[:12].upper()}", "Bench", "", Money(1, "EUR"), _now()
    )


def _now() -> datetime:
    return datetime.now(UTC)


def append(database: str, transactions: int, batch: int) -> dict[str, float]:
    """Events a second through `eventstore.append`, `batch` events per transaction, new streams."""
    start = time.perf_counter()
    for n in range(transactions):
        product_id = str(uuid.uuid4())
        first = _created(product_id, n)
        more = [ProductPriceChanged(product_id, Money(k + 2, "EUR"), first.at) for k in range(batch - 1)]
        new = [registry.encode_event(event, {"command_id": None}) for event in [first, *more]]
        with db.writing(database) as connection:
            eventstore.append(connection, product_id, "Product", 0, new, first.at)
    return {f"append_batch{batch}_events_per_s": transactions * batch / (time.perf_counter() - start)}


def _append_for(
    database: str, streams: int, per_stream: int, seconds: float, queue: multiprocessing.Queue[int]
) -> None:
    """One writer: transactions of `streams` new streams x `per_stream` events until time is up."""
    appended, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        at = _now()
        appends = []
        for _ in range(streams):
            product_id = str(uuid.uuid4())
            first = _created(product_id, 0)
            more = [ProductPriceChanged(product_id, Money(k + 2, "EUR"), at) for k in range(per_stream - 1)]
            new = [registry.encode_event(event, {"command_id": None}) for event in [first, *more]]
            appends.append(eventstore.StreamAppend(product_id, "Product", 0, new))
        with db.writing(database) as connection:
            eventstore.append_streams(connection, appends, at)
        appended += streams * per_stream
    queue.put(appended)


def write_ceiling(database: str, writers: int, per_transaction: int, seconds: float) -> dict[str, float]:
    """Events a second that `writers` processes append together, `per_transaction` events (10 per
    stream) in each transaction: what the `event_head` row lets one database take."""
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[int] = context.Queue()
    streams = max(1, per_transaction // 10)
    args = (database, streams, per_transaction // streams, seconds, queue)
    processes = [context.Process(target=_append_for, args=args) for _ in range(writers)]
    for process in processes:
        process.start()
    total = sum(queue.get(timeout=seconds + 120) for _ in processes)
    for process in processes:
        process.join()
    return {f"ceiling_{writers}w_batch{per_transaction}_events_per_s": total / seconds}


def bulk_streams(database: str, products: int, per_product: int) -> list[str]:
    """Write `products` streams of `per_product` events each straight into the store (test data),
    in one transaction."""
    ids = [str(uuid.uuid4()) for _ in range(products)]
    at = _now()
    with db.writing(database) as connection:
        head = eventstore.head(connection)
        rows, position = [], head
        for product_id in ids:
            stream: list[Any] = [_created(product_id, 0)]
            stream += [
                ProductPriceChanged(product_id, Money(k + 2, "EUR"), at) for k in range(per_product - 1)
            ]
            for version, event in enumerate(stream, start=1):
                position += 1
                rows.append(
                    {
                        "position": position,
                        "stream_id": product_id,
                        "stream_type": "Product",
                        "version": version,
                        "type": type(event).TYPE,
                        "schema_version": type(event).VERSION,
                        "data": to_json(event),
                        "metadata": {},
                        "command_id": None,
                        "recorded_at": at,
                    }
                )
                if len(rows) == 5000:
                    connection.execute(insert(events), rows)
                    rows = []
        if rows:
            connection.execute(insert(events), rows)
        connection.execute(update(event_head).values(position=position))
    return ids


def aggregate_load(database: str, sizes: tuple[int, ...], loads: int) -> dict[str, float]:
    """Time to load a product of each size as the handler does (snapshot + tail), and by full replay."""
    found: dict[str, float] = {}
    for size in sizes:
        (product_id,) = bulk_streams(database, 1, size)
        with db.writing(database) as connection:
            mailbox.record(
                connection,
                mailbox.NewCommand(
                    id=str(uuid.uuid4()),
                    type="ChangeProductPrice",
                    aggregate_type="Product",
                    aggregate_id=product_id,
                    partition=0,
                    payload={"product_id": product_id, "price": {"amount": 999_999, "currency": "EUR"}},
                    submitted_at=_now(),
                ),
            )
        command_handler.handle_batch(database, 0, 10)

        def load(product_id: str = product_id) -> None:
            with db.reading(database) as connection:
                snapshots.load(connection, decider, product_id)

        def replay(product_id: str = product_id) -> None:
            with db.reading(database) as connection:
                decider.fold(
                    [registry.decode_event(e) for e in eventstore.read_stream(connection, product_id)]
                )

        found[f"load_{size}_ms"] = median(timings(load, loads)) * 1000
        found[f"replay_{size}_ms"] = median(timings(replay, max(3, loads // 10))) * 1000
    return found


def _rebuild(config: Settings, name: str, queue: multiprocessing.Queue[tuple[float, int]]) -> None:
    """`eventshop projections rebuild`: shadow tables filled from every event, then the switch."""
    start = time.perf_counter()
    position = rebuilding.rebuild(config, name, lambda _position, _target: None)
    elapsed = time.perf_counter() - start
    queue.put((position / elapsed, _peak_rss_kib()))


def _peak_rss_kib() -> int:
    """This process's own peak RSS. Not `ru_maxrss` where /proc is there: on Linux a spawned child
    inherits in it the parent's peak (its memory map before `exec`), so it read the bench's own
    peak instead of the rebuild's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rebuild(config: Settings, total: int, name: str = "products") -> dict[str, float]:
    """Events a second when `name` is rebuilt from `total` events, in a process of its own."""
    bulk_streams(config.database_url, total // 10, 10)
    return rebuild_stored(config, total, name)


def rebuild_stored(config: Settings, total: int, name: str = "products") -> dict[str, float]:
    """Events a second and peak RSS when `name` is rebuilt, in a process of its own, from the
    `total` events already in the store."""
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[float, int]] = context.Queue()
    process = context.Process(target=_rebuild, args=(config, name, queue))
    process.start()
    rate, peak_kib = queue.get(timeout=3600)
    process.join()
    return {
        "rebuild_events": float(total),
        "rebuild_events_per_s": rate,
        "rebuild_peak_rss_mib": peak_kib / 1024,
    }


def api_memory(url: str, web_pid: int, distinct: int, warm_up: int = 5_000) -> dict[str, float]:
    """The API processes' resident memory (the web parent and its children) after `warm_up`
    distinct documents (enough to fill the API's bounded cache of parsed documents), and again
    after `distinct` more, no two of them the same."""

    def document(n: int) -> tuple[str, dict[str, Any]]:
        page = f"products(first: {1 + n % 20}) {{ totalCount edges {{ node {{ id sku }} }} }}"
        return f"query Q{n} {{ a{n}: {page} }}", {}

    async def send(first: int, count: int) -> int:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=16), headers=credentials.headers()
        ) as session:
            numbers = iter(range(first, first + count))
            answered = 0

            async def client() -> None:
                nonlocal answered
                for n in numbers:
                    sample = await send_one(session, url, document(n))
                    answered += sample.ok

            await asyncio.gather(*(client() for _ in range(16)))
            return answered

    def resident_mib() -> float:
        web = psutil.Process(web_pid)
        return sum(p.memory_info().rss for p in [web, *web.children(recursive=True)]) / 2**20

    asyncio.run(send(0, warm_up))
    before = resident_mib()
    started = time.monotonic()
    answered = asyncio.run(send(warm_up, distinct))
    elapsed = time.monotonic() - started
    after = resident_mib()
    return {
        "api_rss_before_mib": before,
        "api_rss_after_mib": after,
        "api_rss_growth": after / before - 1,
        "distinct_queries": distinct,
        "distinct_queries_answered": answered,
        "distinct_queries_per_s": distinct / elapsed,
    }
