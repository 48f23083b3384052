"""`python -m bench.soak`: `eventshop up` on the embedded default under a steady mixed load.

Load runs in cycles (`--load` seconds of about `--rate` commands/s plus reads, then `--idle`
seconds of nothing) for `--minutes`. Meanwhile the RSS of every process of the system is sampled.
At the end: every command must be terminal, no process restarted by the supervisor, `eventshop
verify` green, and Ctrl-C must stop everything within 15 s. Writes soak.json and soak.png.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import aiohttp
import psutil
import typer
from sqlalchemy import create_engine, func, select

from bench import credentials
from bench.load import Mix
from bench.stack import wait_until_up
from eventshop import topology
from store.schema import commands

READS = (
    "query($id: ID!) { product(id: $id) { id sku name price { amount currency } version } }",
    "{ products(first: 20) { totalCount edges { node { id name } } pageInfo { endCursor } } }",
)


class Sampler(threading.Thread):
    """Every `every` seconds, the RSS (MiB) of each process under `eventshop up`, by role and pid."""

    def __init__(self, up_pid: int, every: float) -> None:
        super().__init__(daemon=True)
        self.up, self.every = psutil.Process(up_pid), every
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.started = time.monotonic()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            now = time.monotonic() - self.started
            try:
                family = [self.up, *self.up.children(recursive=True)]
            except psutil.Error:
                return
            for process in family:
                try:
                    name = "up" if process == self.up else topology.role(process.cmdline()) or "other"
                    rss = process.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.series.setdefault(f"{name} {process.pid}", []).append((now, rss))


async def _send(
    session: aiohttp.ClientSession, url: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    try:
        async with session.post(url, json={"query": query, "variables": variables}) as response:
            body: dict[str, Any] = await response.json(content_type=None)
            return body if response.status == 200 else {"errors": [{"status": response.status}]}
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return {"errors": [{"message": repr(error)}]}


async def _load(
    url: str, minutes: float, rate: float, load: float, idle: float, tally: dict[str, Any]
) -> None:
    rng = random.Random(7)
    async with aiohttp.ClientSession(headers=credentials.headers()) as session:
        seed = [
            await _send(
                session,
                url,
                "mutation($i: CreateProductInput!) { createProduct(input: $i) { commandId aggregateId } }",
                {"i": {"sku": f"SOAK-{n}", "name": "Soak", "price": {"amount": 100, "currency": "EUR"}}},
            )
            for n in range(50)
        ]
        products = [body["data"]["createProduct"]["aggregateId"] for body in seed if body.get("data")]
        tally["commands"] += len(products)
        mix = Mix(products, rng=rng)
        deadline = time.monotonic() + minutes * 60
        pending: set[asyncio.Task[None]] = set()

        async def one(query: str, variables: dict[str, Any], kind: str) -> None:
            body = await _send(session, url, query, variables)
            tally[kind] += 1
            if "errors" in body:
                tally["errors"] += 1
                tally["last_error"] = body["errors"]

        while time.monotonic() < deadline:
            cycle_end = min(time.monotonic() + load, deadline)
            start, n = time.monotonic(), 0
            while time.monotonic() < cycle_end:
                n += 1
                await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
                query, variables = mix()
                task = asyncio.create_task(one(query, variables, "commands"))
                pending.add(task)
                task.add_done_callback(pending.discard)
                read = READS[rng.randrange(2)]
                task = asyncio.create_task(
                    one(read, {"id": rng.choice(products)} if "$id" in read else {}, "reads")
                )
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(max(0.0, min(idle, deadline - time.monotonic())))
        await asyncio.gather(*pending)


def _terminal(database: Path, timeout: float) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{database}")
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                rows = connection.execute(select(commands.c.status, func.count()).group_by(commands.c.status))
                counts = {status: count for status, count in rows}
            if "PENDING" not in counts or time.monotonic() > deadline:
                return counts
            time.sleep(0.5)
    finally:
        engine.dispose()


def _chart(series: dict[str, list[tuple[float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 6))
    for label, points in sorted(series.items()):
        axes.plot([t / 60 for t, _ in points], [rss for _, rss in points], label=label, linewidth=1)
    axes.set_xlabel("minutes")
    axes.set_ylabel("RSS (MiB)")
    axes.set_title("eventshop up on the embedded default: RSS of every process during the soak")
    axes.legend(fontsize=7, ncol=3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(
    minutes: Annotated[float, typer.Option(help="How long the load runs.")] = 30,
    rate: Annotated[float, typer.Option(help="Commands a second while loaded (plus as many reads).")] = 20,
    load: Annotated[float, typer.Option(help="Seconds of load in each cycle.")] = 240,
    idle: Annotated[float, typer.Option(help="Seconds of idleness after each stretch of load.")] = 60,
    out: Annotated[Path, typer.Option(help="Folder for soak.json, soak.png and up.log.")] = Path(
        "bench-results/soak"
    ),
) -> None:
    """Soak `eventshop up` on the embedded default and report whether it stayed up and flat."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    data_dir, log, port = out / f"data-{uuid.uuid4().hex[:6]}", out / "up.log", 18_555
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "BROKER_URL", "EVENTSHOP_DATA_DIR")
        },
        **credentials.environment(),
    }
    command = [sys.executable, "-m", "eventshop", "up", "--port", str(port), "--data-dir", str(data_dir)]
    with log.open("wb") as output:
        up = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    wait_until_up(f"http://127.0.0.1:{port}/healthz")
    sampler = Sampler(up.pid, every=15)
    sampler.start()
    tally: dict[str, Any] = {"commands": 0, "reads": 0, "errors": 0}
    asyncio.run(_load(f"http://127.0.0.1:{port}/graphql", minutes, rate, load, idle, tally))
    statuses = _terminal(data_dir / "eventshop.db", 120)
    verify = subprocess.run(
        [sys.executable, "-m", "eventshop", "verify", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
    )
    sampler.done.set()
    started = time.monotonic()
    os.killpg(up.pid, signal.SIGINT)
    up.wait(60)
    stopped_in = time.monotonic() - started
    text = log.read_text(errors="replace")
    growth = {
        label: round(points[-1][1] - next(rss for t, rss in points if t >= 300), 1)
        for label, points in sampler.series.items()
        if points[-1][0] >= 300
    }
    summary = {
        "minutes": minutes,
        "rate": rate,
        "submitted": tally,
        "statuses": statuses,
        "restarts": text.count("restarting it in"),
        "unrecoverable": text.count("Unrecoverable error"),
        "verify_exit": verify.returncode,
        "stopped_in_s": round(stopped_in, 1),
        "rss_growth_after_5_min_mib": growth,
        "rss_mib": {label: [round(rss, 1) for _, rss in points] for label, points in sampler.series.items()},
    }
    (out / "soak.json").write_text(json.dumps(summary, indent=2))
    _chart(sampler.series, out / "soak.png")
    print(json.dumps({k: v for k, v in summary.items() if k != "rss_mib"}, indent=2))
    if verify.returncode:
        print(verify.stdout, verify.stderr)


if __name__ == "__main__":
    typer.run(main)
