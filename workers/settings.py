"""Configuration, read from environment variables (see the README for each)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str
    command_batch: int
    projection_batch: int
    max_attempts: int
    redeliver_after: float
    broker_timeout: float


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def load() -> Settings:
    """The settings in force now; `DATABASE_URL` and `BROKER_URL` come first."""
    data_dir = Path(os.environ.get("EVENTSHOP_DATA_DIR", "eventshop-data")).resolve()
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'eventshop.db'}",
        broker_url=os.environ.get("BROKER_URL") or "filesystem://",
        command_batch=_int("EVENTSHOP_COMMAND_BATCH", 100),
        projection_batch=_int("EVENTSHOP_PROJECTION_BATCH", 500),
        max_attempts=_int("EVENTSHOP_MAX_ATTEMPTS", 5),
        redeliver_after=float(os.environ.get("EVENTSHOP_REDELIVER_AFTER", "5")),
        broker_timeout=float(os.environ.get("EVENTSHOP_BROKER_TIMEOUT", "3")),
    )
