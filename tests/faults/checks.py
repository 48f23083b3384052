"""What every fault scenario checks at its end: all commands terminal, projections at head, verify."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from store import db
from store.schema import commands, event_head, events, projections
from tests.e2e.client import Client, wait_for
from tests.e2e.documents import CREATE
from tests.faults.cluster import Cluster
from workers.projections import PROJECTIONS


def create(api: Client, sku: str, name: str = "Fault", amount: int = 100) -> dict[str, Any]:
    price = {"amount": amount, "currency": "EUR"}
    receipt: dict[str, Any] = api.data(CREATE, input={"sku": sku, "name": name, "price": price})[
        "createProduct"
    ]
    return receipt


def pending(url: str) -> int:
    with db.reading(url) as connection:
        found: int = connection.execute(
            select(func.count()).select_from(commands).where(commands.c.status == "PENDING")
        ).scalar_one()
    return found


def all_terminal(cluster: Cluster, timeout: float = 120) -> None:
    wait_for(lambda: pending(cluster.database_url) == 0, timeout, "every command to end")


def at_head(url: str, names: list[str] | None = None) -> bool:
    with db.reading(url) as connection:
        head = connection.execute(select(event_head.c.position)).scalar_one()
        positions = dict(connection.execute(select(projections.c.name, projections.c.position)).all())
    return all(positions.get(name, 0) == head for name in names or list(PROJECTIONS))


def projections_at_head(cluster: Cluster, timeout: float = 120, names: list[str] | None = None) -> None:
    wait_for(lambda: at_head(cluster.database_url, names), timeout, "the projections to reach the head")


def statuses(url: str) -> dict[str, int]:
    with db.reading(url) as connection:
        return dict(
            connection.execute(select(commands.c.status, func.count()).group_by(commands.c.status)).all()
        )


def event_count(url: str) -> int:
    with db.reading(url) as connection:
        found: int = connection.execute(select(func.count()).select_from(events)).scalar_one()
    return found


def verify_green(cluster: Cluster) -> None:
    result = cluster.eventshop("verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all invariants hold" in result.stdout
