"""Configuration, read from environment variables (see the README for each)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
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


NAMES = (
    "EVENTSHOP_DATA_DIR",
    "DATABASE_URL",
    "BROKER_URL",
    "EVENTSHOP_PARTITIONS",
    "EVENTSHOP_COMMAND_BATCH",
    "EVENTSHOP_PROJECTION_BATCH",
    "EVENTSHOP_MAX_ATTEMPTS",
    "EVENTSHOP_REDELIVER_AFTER",
    "EVENTSHOP_BROKER_TIMEOUT",
)


def load() -> Settings:
    """The settings in force now; `DATABASE_URL` and `BROKER_URL` come first.

    Read on every database access, so built once per distinct environment (and working folder).
    """
    return _build(os.getcwd(), *(os.environ.get(name) for name in NAMES))


@lru_cache(maxsize=16)
def _build(
    cwd: str,
    data_dir: str | None,
    database_url: str | None,
    broker_url: str | None,
    partitions: str | None,
    command_batch: str | None,
    projection_batch: str | None,
    max_attempts: str | None,
    redeliver_after: str | None,
    broker_timeout: str | None,
) -> Settings:
    folder = (Path(cwd) / (data_dir or "eventshop-data")).resolve()
    return Settings(
        data_dir=folder,
        database_url=database_url or f"sqlite:///{folder / 'eventshop.db'}",
        broker_url=broker_url or f"redis+socket://{folder / 'broker' / 'redis.sock'}",
        embedded_broker=not broker_url,
        partitions=int(partitions or 16),
        command_batch=int(command_batch or 100),
        projection_batch=int(projection_batch or 500),
        max_attempts=int(max_attempts or 5),
        redeliver_after=float(redeliver_after or 5),
        broker_timeout=float(broker_timeout or 3),
    )
