"""HTTP load: open-loop (a fixed offered rate) and closed-loop (N clients) GraphQL clients."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import select

from bench import credentials
from store import db
from store.schema import commands, events, projections

Request = tuple[str, dict[str, Any]]

CREATE = "mutation($i: CreateProductInput!) { createProduct(input: $i) { commandId aggregateId } }"
PRICE = "mutation($i: ChangeProductPriceInput!) { changeProductPrice(input: $i) { commandId aggregateId } }"
UPDATE = "mutation($i: UpdateProductInput!) { updateProduct(input: $i) { commandId aggregateId } }"


@dataclass
class Sample:
    started: float
    acked: float
    ok: bool
    command_id: str | None = None


@dataclass
class Mix:
    """createProduct / changeProductPrice / updateProduct over a pool of products (20/50/30), or
    createProduct alone."""

    products: list[str]
    hot: bool = False
    creates_only: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(42))

    def target(self) -> str:
        pool = self.products[:10] if self.hot and self.rng.random() < 0.9 else self.products
        return self.rng.choice(pool)

    def __call__(self) -> Request:
        roll = 0.0 if self.creates_only else self.rng.random()
        if roll < 0.2:
            sku = f"B-{uuid.uuid4().hex[:12].upper()}"
            return CREATE, {"i": {"sku": sku, "name": "Bench", "price": {"amount": 100, "currency": "EUR"}}}
        if roll < 0.7:
            price = {"amount": self.rng.randrange(1, 100_000), "currency": "EUR"}
            return PRICE, {"i": {"id": self.target(), "price": price}}
        return UPDATE, {"i": {"id": self.target(), "name": f"Bench {self.rng.randrange(1_000_000)}"}}


async def send_one(session: aiohttp.ClientSession, url: str, request: Request) -> Sample:
    query, variables = request
    started = time.monotonic()
    try:
        async with session.post(url, json={"query": query, "variables": variables}) as response:
            body = json.loads(await response.read())
        acked = time.monotonic()
        data = body.get("data") or {}
        receipt = next(iter(data.values()), None) if data else None
        command_id = receipt.get("commandId") if isinstance(receipt, dict) else None
        return Sample(started, acked, response.status == 200 and "errors" not in body, command_id)
    except (TimeoutError, aiohttp.ClientError):
        return Sample(started, time.monotonic(), False)


async def open_loop(url: str, make: Callable[[], Request], rate: float, duration: float) -> list[Sample]:
    """Send `rate` requests a second for `duration` seconds, whatever the answers take."""
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector, headers=credentials.headers()) as session:
        start, tasks = time.monotonic(), []
        for n in range(int(rate * duration)):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send_one(session, url, make())))
        return list(await asyncio.gather(*tasks))


async def closed_loop(url: str, make: Callable[[], Request], clients: int, duration: float) -> list[Sample]:
    """`clients` clients, each sending its next request as soon as the last is answered."""
    samples: list[Sample] = []
    deadline = time.monotonic() + duration
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=clients), headers=credentials.headers()
    ) as session:

        async def client() -> None:
            while time.monotonic() < deadline:
                samples.append(await send_one(session, url, make()))

        await asyncio.gather(*(client() for _ in range(clients)))
    return samples


class Observer(threading.Thread):
    """Polls the `products` checkpoint every few milliseconds: when did each position become visible?"""

    def __init__(self, database: str, projection: str = "products", every: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.database, self.projection, self.every = database, projection, every
        self.times: list[float] = []
        self.positions: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        query = select(projections.c.position).where(projections.c.name == self.projection)
        while not self.stop.is_set():
            with db.reading(self.database) as connection:
                position = connection.execute(query).scalar() or 0
            if not self.positions or position > self.positions[-1]:
                self.times.append(time.monotonic())
                self.positions.append(position)
            time.sleep(self.every)

    def visible_at(self, position: int) -> float | None:
        index = bisect_left(self.positions, position)
        return self.times[index] if index < len(self.times) else None


def read_model_latencies(samples: list[Sample], observer: Observer) -> list[float]:
    """Seconds from each acknowledgement until the read table showed the command's last event."""
    acked = {s.command_id: s.acked for s in samples if s.ok and s.command_id}
    with db.reading(observer.database) as connection:
        rows = connection.execute(select(events.c.command_id, events.c.position)).all()
    last: dict[str, int] = {}
    for row in rows:
        if row.command_id in acked:
            last[row.command_id] = max(row.position, last.get(row.command_id, 0))
    latencies = []
    for command_id, position in last.items():
        seen = observer.visible_at(position)
        if seen is not None:
            latencies.append(max(0.0, seen - acked[command_id]))
    return latencies


def completions(database: str, command_ids: set[str]) -> list[float]:
    """Completion times (epoch seconds) of the given commands that have ended."""
    with db.reading(database) as connection:
        rows = connection.execute(select(commands.c.id, commands.c.completed_at)).all()
    return sorted(row.completed_at.timestamp() for row in rows if row.id in command_ids and row.completed_at)


def pending(database: str, command_ids: set[str]) -> int:
    with db.reading(database) as connection:
        rows = connection.execute(select(commands.c.id).where(commands.c.status == "PENDING")).scalars().all()
    return len(command_ids.intersection(rows))
