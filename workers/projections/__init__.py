"""Projections: functions that turn events into rows of read tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table

from workers.eventstore import RecordedEvent


@dataclass(frozen=True)
class Projection:
    """A read model kept by the projector, one checkpoint per `name` (I5)."""

    name: str
    tables: tuple[Table, ...]
    apply: Callable[[Connection, RecordedEvent, Any], None]


@dataclass(frozen=True)
class InlineProjection:
    """A read model written in the append transaction itself; it may reject a command."""

    name: str
    tables: tuple[Table, ...]
    apply: Callable[[Connection, Any], None]
