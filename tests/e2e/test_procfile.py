"""The Procfile under honcho: scaled workers get unique names, Flower answers, commands complete."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import processes
from tests.conftest import free_port
from tests.e2e.client import Client, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _celery_nodes(env: dict[str, str]) -> set[str]:
    """The Celery node names that answer a ping."""
    found = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers", "inspect", "ping", "--timeout", "2", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    for line in reversed(found.stdout.strip().splitlines()):
        try:
            replies = json.loads(line)
        except ValueError:
            continue
        return set(replies) if isinstance(replies, dict) else {name for reply in replies for name in reply}
    return set()


def test_honcho_scales_workers_with_unique_names(
    make_database: Callable[[], str], broker: str, tmp_path: Path
) -> None:
    base, flower = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": make_database(),
        "BROKER_URL": broker,
        "FLOWER_PORT": str(flower),
        "FLOWER_BASIC_AUTH": "ops:correct-horse",
        "EVENTSHOP_DATA_DIR": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    command = ["honcho", "start", "-f", str(ROOT / "Procfile"), "-p", str(base), "-c", "worker=2"]
    with (tmp_path / "honcho.log").open("wb") as log:
        process = processes.start(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        api, monitor = (
            Client(f"http://127.0.0.1:{base}"),
            Client(f"http://127.0.0.1:{flower}", anonymous=True),
        )
        wait_for(lambda: _up(api, process), 90, "the API")
        names = wait_for(
            lambda: (found := _celery_nodes(env)) and len(found) >= 3 and found, 90, "three Celery nodes"
        )
        host = socket.gethostname()
        assert names == {
            f"worker.{base + 100}@{host}",
            f"worker.{base + 101}@{host}",
            f"projector.{base + 200}@{host}",
        }
        login = {"Authorization": "Basic " + base64.b64encode(b"ops:correct-horse").decode()}
        wait_for(lambda: _up(monitor, process, "/api/workers", login), 60, "Flower")
        assert monitor.request("GET", "/api/workers")[0] == 401  # FLOWER_BASIC_AUTH guards it
        mutation = """mutation($sku: String!) { createProduct(input: {sku: $sku, name: "Bowl",
            price: {amount: 1, currency: "EUR"}}) { commandId aggregateId } }"""
        receipt = api.data(mutation, sku=f"PROC-{uuid.uuid4().hex[:8].upper()}")["createProduct"]
        assert api.settled(receipt["commandId"])["status"] == "SUCCEEDED"
        wait_for(lambda: api.product(receipt["aggregateId"]), 60, "the product")
    except AssertionError:
        pytest.fail((tmp_path / "honcho.log").read_text()[-5000:], pytrace=True)
    finally:
        processes.signal_group(process, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            processes.signal_group(process, signal.SIGKILL)
            process.wait()


def _up(
    client: Client,
    process: subprocess.Popen[bytes],
    path: str = "/healthz",
    headers: dict[str, str] | None = None,
) -> bool:
    assert process.poll() is None, "honcho exited early"
    try:
        return client.request("GET", path, headers=headers)[0] == 200
    except OSError:
        return False
