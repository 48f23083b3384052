"""The processes that make up a running eventshop, each named after its role: the one place that
says which queues, how many processes and which names. `eventshop up`, `eventshop run ROLE` (the
Procfile's entries), the benchmark stack and the fault tests' cluster all start these."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from store import broker
from store.celery_config import COMMANDS_QUEUE, PROJECTIONS_QUEUE
from store.settings import Settings

PYTHON = sys.executable
CELERY = [PYTHON, "-m", "celery", "-A", "workers"]


def default_web_workers() -> int:
    """API processes for this machine: one per core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


def web(host: str, port: int, workers: int | None = None) -> list[str]:
    processes = str(workers or default_web_workers())
    return [PYTHON, "-m", "eventshop", "web", "--host", host, "--port", str(port), "--workers", processes]


def worker(node: str = "worker", concurrency: int = 2, log_level: str = "INFO") -> list[str]:
    """A command worker: drains partitions' mailboxes and runs beat's redelivery."""
    return _consumer(COMMANDS_QUEUE, node, concurrency, log_level)


def projector(node: str = "projector", log_level: str = "INFO") -> list[str]:
    """A projector: one process, so a projection's batches apply one at a time."""
    return _consumer(PROJECTIONS_QUEUE, node, 1, log_level)


def _consumer(queue: str, node: str, concurrency: int, log_level: str) -> list[str]:
    options = ["-P", "prefork", "-l", log_level, "-Q", queue, "-n", f"{node}@%h", "-c", str(concurrency)]
    return [*CELERY, "worker", *options]


def beat(data_dir: Path, log_level: str = "INFO") -> list[str]:
    """Beat, keeping its schedule in the data folder."""
    return [*CELERY, "beat", "-s", str(data_dir / "celerybeat-schedule"), "-l", log_level]


def relay() -> list[str]:
    """The outbox relay: publishes every event to EVENTSHOP_PUBLISH (one per sink)."""
    return [PYTHON, "-m", "eventshop", "relay", "run"]


def programs(
    settings: Settings,
    host: str,
    port: int,
    *,
    workers: int = 2,
    web_workers: int | None = None,
    log_level: str = "INFO",
) -> dict[str, list[str]]:
    """Role -> command line, in start order: the embedded broker first when there is one."""
    found: dict[str, list[str]] = {}
    if settings.embedded_broker:
        found["broker"] = broker.server_command(settings)
    found["web"] = web(host, port, web_workers)
    found["worker"] = worker(concurrency=workers, log_level=log_level)
    found["projector"] = projector(log_level=log_level)
    found["beat"] = beat(settings.data_dir, log_level)
    if settings.publish is not None:
        found["relay"] = relay()
    return found


# What each role's command line contains, so a running process can be told apart from the others.
MARKS = {
    "broker": "redis-server",
    "web": "eventshop web",
    "worker": "-n worker@",
    "projector": "-n projector@",
    "beat": "workers beat",
    "relay": "eventshop relay run",
}


def role(cmdline: list[str]) -> str | None:
    """The role a process started from `programs` plays, read off its command line."""
    line = " ".join(cmdline)
    return next((name for name, mark in MARKS.items() if mark in line), None)
