"""`python -m bench.relay`: how fast the outbox relay publishes, to NATS JetStream and to Redis
Streams, beside the same messages published straight to the same sink (the baseline: what the
sink itself takes through the same client).

A fresh PostgreSQL database beside DATABASE_URL's gets `--events` events (products of 10); the
relay then publishes them all from position 0 (`workers.relay.run`, as `eventshop relay run`
does), timed until its checkpoint reaches the head. Writes bench/results/relay.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench import scenarios
from bench.report import environment
from bench.stack import Stack
from store import db, eventstore, settings
from workers import relay
from workers.sinks import sink_for

RESULTS = Path(__file__).parent / "results" / "relay.json"


async def _relayed(config: settings.Settings, head: int) -> float:
    """Seconds the relay takes to publish every event up to `head` from an empty checkpoint."""
    sink, stop = sink_for(config), asyncio.Event()
    started = time.perf_counter()
    running = asyncio.create_task(relay.run(config, sink, stop))
    while await asyncio.to_thread(relay.checkpoint, config.database_url, sink.name) < head:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop.set()
    await running
    return elapsed


async def _straight(config: settings.Settings, head: int) -> float:
    """Seconds the same messages take published straight to a fresh stream of the same sink."""
    messages = relay.messages(config.database_url, 0, head)
    sink = sink_for(config)
    await sink.open()
    started = time.perf_counter()
    for start in range(0, len(messages), relay.BATCH):
        await sink.publish(messages[start : start + relay.BATCH])
    elapsed = time.perf_counter() - started
    await sink.close()
    return elapsed


def main(
    events: Annotated[int, typer.Option(help="Events in the store.")] = 50_000,
    nats_url: Annotated[str, typer.Option(help="NATS with JetStream.")] = "nats://127.0.0.1:4222",
) -> None:
    stack = Stack(Path(tempfile.mkdtemp(prefix="eventshop-bench-relay-")), sqlite=False)
    database = stack.fresh_database()
    try:
        for _ in range(0, events, 10_000):
            scenarios.bulk_streams(database, min(1000, (events // 10)), 10)
        with db.reading(database) as connection:
            head = eventstore.head(connection)
        figures: list[dict[str, Any]] = []
        for kind, url in (("NATS JetStream", nats_url), ("Redis Streams", stack.broker_url)):
            mark = uuid.uuid4().hex[:8].upper()
            env = {**os.environ, "DATABASE_URL": database, "EVENTSHOP_PUBLISH": url}
            relayed = settings.load(
                {
                    **env,
                    "EVENTSHOP_PUBLISH_STREAM": f"BENCH{mark}",
                    "EVENTSHOP_PUBLISH_SUBJECT": f"bench.r{mark.lower()}",
                }
            )
            straight = settings.load(
                {
                    **env,
                    "EVENTSHOP_PUBLISH_STREAM": f"BENCHS{mark}",
                    "EVENTSHOP_PUBLISH_SUBJECT": f"bench.s{mark.lower()}",
                }
            )
            seconds = asyncio.run(_relayed(relayed, head))
            baseline = asyncio.run(_straight(straight, head))
            figures.append(
                {
                    "sink": kind,
                    "events": head,
                    "relay_per_second": head / seconds,
                    "straight_per_second": head / baseline,
                    "ratio": baseline / seconds,
                }
            )
    finally:
        stack.stop_all(keep_broker=False)
        stack.drop_databases()
    table = Table("sink", "events", "relay events/s", "published straight /s", "ratio")
    for f in figures:
        table.add_row(
            f["sink"], f"{f['events']:,}", f"{f['relay_per_second']:,.0f}",
            f"{f['straight_per_second']:,.0f}", f"{f['ratio']:.2f}",
        )  # fmt: skip
    Console().print(table)
    results = {"environment": environment("postgresql"), "figures": figures}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    typer.run(main)
