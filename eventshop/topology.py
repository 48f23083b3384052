"""The processes that make up a running eventshop, each named after its role.

`eventshop up` and the benchmark stack start exactly these; the Procfile spells out the same
roles for honcho.
"""

from __future__ import annotations

import os
import sys

from store import broker
from store.celery_config import COMMANDS_QUEUE, PROJECTIONS_QUEUE
from store.settings import Settings

PYTHON = sys.executable
CELERY = [PYTHON, "-m", "celery", "-A", "workers"]


def default_web_workers() -> int:
    """API processes for this machine: one per core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


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
    worker = [*CELERY, "worker", "-P", "prefork", "-l", log_level]
    found: dict[str, list[str]] = {}
    if settings.embedded_broker:
        found["broker"] = broker.server_command(settings)
    web_processes = str(web_workers or default_web_workers())
    found["web"] = [
        PYTHON,
        "-m",
        "eventshop",
        "web",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        web_processes,
    ]
    found["worker"] = [*worker, "-Q", COMMANDS_QUEUE, "-n", "worker@%h", "-c", str(workers)]
    found["projector"] = [*worker, "-Q", PROJECTIONS_QUEUE, "-n", "projector@%h", "-c", "1"]
    found["beat"] = [*CELERY, "beat", "-s", str(settings.data_dir / "celerybeat-schedule"), "-l", log_level]
    return found


# What each role's command line contains, so a running process can be told apart from the others.
MARKS = {
    "broker": "redis-server",
    "web": "eventshop web",
    "worker": "-n worker@",
    "projector": "-n projector@",
    "beat": "workers beat",
}


def role(cmdline: list[str]) -> str | None:
    """The role a process started from `programs` plays, read off its command line."""
    line = " ".join(cmdline)
    return next((name for name, mark in MARKS.items() if mark in line), None)
