"""Recording product commands straight into the mailbox, as the API does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from domain.money import Money
from domain.product import ChangeProductPrice, CreateProduct, DeleteProduct, UpdateProduct
from store import db, mailbox, registry
from store.actor import ANONYMOUS, Actor
from store.codec import to_json
from store.schema import commands
from tests.config import config, database_url
from workers import command_handler

NOW = datetime(2026, 1, 1, tzinfo=UTC)


PARTITIONS = 4


def new_command(
    command: Any, command_id: str | None = None, partitions: int = PARTITIONS, actor: Actor = ANONYMOUS
) -> mailbox.NewCommand:
    """`command` as the API records it, in its partition of `partitions`, submitted by `actor`."""
    decider = registry.decider_of(command)
    return mailbox.NewCommand(
        id=command_id or str(uuid.uuid4()),
        type=type(command).__name__,
        aggregate_type=decider.stream_type,
        aggregate_id=decider.id_of(command),
        partition=mailbox.partition_of(decider.id_of(command), partitions),
        payload={key: value for key, value in to_json(command).items() if key != "at"},
        submitted_at=command.at,
        actor=actor,
    )


def record(
    command: Any,
    command_id: str | None = None,
    url: str | None = None,
    partitions: int = PARTITIONS,
    actor: Actor = ANONYMOUS,
) -> str:
    """Record `command` in the mailbox as the API does; returns its id."""
    new = new_command(command, command_id, partitions, actor)
    with db.writing(url or database_url()) as connection:
        mailbox.record(connection, new)
    return new.id


def drain_all(partitions: int = PARTITIONS) -> int:
    """Drain every partition, as workers rung for each would; returns how many commands."""
    return sum(command_handler.drain(config(), partition) for partition in range(partitions))


def partition(product_id: str) -> int:
    return mailbox.partition_of(product_id, PARTITIONS)


def outcome(command_id: str) -> tuple[str, str | None]:
    with db.reading(database_url()) as connection:
        row = connection.execute(select(commands).where(commands.c.id == command_id)).one()
    return row.status, row.error


def name_in(data: dict[str, Any]) -> Any:
    """The name a product event's (newest-shape) data sets: created, or changed by an update."""
    return data["changes"]["name"] if "changes" in data else data.get("name")


def create(product_id: str, sku: str = "SKU-1", name: str = "Mug", amount: int = 100) -> CreateProduct:
    return CreateProduct(product_id, sku, name, "", Money(amount, "EUR"), NOW)


def rename(product_id: str, name: str) -> UpdateProduct:
    return UpdateProduct(product_id, name, None, NOW)


def reprice(product_id: str, amount: int) -> ChangeProductPrice:
    return ChangeProductPrice(product_id, Money(amount, "EUR"), NOW)


def delete(product_id: str) -> DeleteProduct:
    return DeleteProduct(product_id, NOW)
