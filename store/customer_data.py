"""Everything held about one customer, its personal data opened (the right of access): its read
row, its events, its commands and its orders. Shared by `customerData` and
`eventshop customers export`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from store import eventstore, personal, registry
from store.schema import commands, customers, orders, personal_keys


def owner(connection: Connection, customer_id: str) -> str | None:
    """The subject that registered the customer, or None when it is unknown."""
    found: str | None = connection.execute(
        select(customers.c.owner).where(customers.c.id == customer_id)
    ).scalar_one_or_none()
    return found


def opened_customer(row: Any, data_key: bytes | None) -> dict[str, Any]:
    """A `customers` row as readers see it: personal values opened (None once forgotten)."""
    fields = ("name", "email", "address")
    opened = personal.open_fields(dict(row._mapping), fields, data_key, row.id)
    return {
        "id": row.id,
        **{field: opened[field] for field in fields},
        "forgotten": row.forgotten,
        "version": row.version,
    }


def export(connection: Connection, master: personal.MasterKeys, customer_id: str) -> dict[str, Any] | None:
    """The customer's data as one JSON-ready document, or None when no event names it."""
    stream = eventstore.read_stream(connection, customer_id)
    if not stream or stream[0].stream_type != "Customer":
        return None
    data_key = personal.data_keys(connection, master, [customer_id])[customer_id]
    row = connection.execute(select(customers).where(customers.c.id == customer_id)).first()
    key = connection.execute(select(personal_keys).where(personal_keys.c.subject == customer_id)).first()
    owner_subject = stream[0].data["owner"]
    recorded = connection.execute(  # its own subject's, and those that took effect (an admin's)
        select(commands)
        .where(
            commands.c.aggregate_id == customer_id,
            commands.c.aggregate_type == "Customer",
            or_(commands.c.actor == owner_subject, commands.c.status == "SUCCEEDED"),
        )
        .order_by(commands.c.seq)
    ).all()
    placed = connection.execute(  # those its own subject placed: anyone may name a customer id
        select(orders)
        .where(orders.c.customer_id == customer_id, orders.c.placed_by == owner_subject)
        .order_by(orders.c.created_position)
    ).all()
    return {
        "customer": None if row is None else opened_customer(row, data_key),
        "key": {
            "createdAt": _moment(key.created_at) if key else None,
            "forgottenAt": _moment(key.forgotten_at) if key else None,
        },
        "events": [
            {
                "position": event.position,
                "version": event.version,
                "type": event.type,
                "schemaVersion": event.schema_version,
                "recordedAt": _moment(event.recorded_at),
                "data": personal.open_fields(
                    event.data, registry.personal_of_event(event.type), data_key, customer_id
                ),
            }
            for event in stream
        ],
        "commands": [
            {
                "id": command.id,
                "type": command.type,
                "status": command.status,
                "error": command.error,
                "submittedAt": _moment(command.submitted_at),
                "completedAt": _moment(command.completed_at),
                "subject": command.actor,
                "payload": personal.open_fields(
                    command.payload,
                    registry.personal(registry.COMMANDS[command.type][0]),
                    data_key,
                    customer_id,
                ),
            }
            for command in recorded
        ],
        "orders": [
            {
                "id": order.id,
                "status": order.status,
                "lines": order.lines,
                "total": {"amount": order.total_amount, "currency": order.total_currency},
                "placedAt": _moment(order.placed_at),
            }
            for order in placed
        ],
    }


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
