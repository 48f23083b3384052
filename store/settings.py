"""Configuration, read from environment variables (see the README for each)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str
    embedded_broker: bool
    partitions: int
    command_batch: int
    projection_batch: int
    max_attempts: int
    redeliver_after: float
    broker_timeout: float
    wait_timeout: float


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings `environ` (default: this process's environment) describes. A process reads them
    once, at its start, and passes them on; `DATABASE_URL` and `BROKER_URL` come first."""
    env = os.environ if environ is None else environ
    folder = (Path.cwd() / (env.get("EVENTSHOP_DATA_DIR") or "eventshop-data")).resolve()
    broker_url = env.get("BROKER_URL")
    return Settings(
        data_dir=folder,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{folder / 'eventshop.db'}",
        broker_url=broker_url or f"redis+socket://{folder / 'broker' / 'redis.sock'}",
        embedded_broker=not broker_url,
        partitions=int(env.get("EVENTSHOP_PARTITIONS") or 16),
        command_batch=int(env.get("EVENTSHOP_COMMAND_BATCH") or 100),
        projection_batch=int(env.get("EVENTSHOP_PROJECTION_BATCH") or 500),
        max_attempts=int(env.get("EVENTSHOP_MAX_ATTEMPTS") or 5),
        redeliver_after=float(env.get("EVENTSHOP_REDELIVER_AFTER") or 5),
        broker_timeout=float(env.get("EVENTSHOP_BROKER_TIMEOUT") or 3),
        wait_timeout=float(env.get("EVENTSHOP_WAIT_TIMEOUT") or 5),
    )
