"""The `customers` read table, which `customer` serves: personal values as sealed in the events,
and None once the customer is forgotten."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, update

from domain.customer import CustomerAddressChanged, CustomerForgotten, CustomerRegistered
from store.eventstore import RecordedEvent
from store.schema import customers
from workers.projections.base import Projection


def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
    match event:
        case CustomerRegistered():
            connection.execute(
                insert(customers).values(
                    id=event.customer_id,
                    owner=event.owner,
                    name=event.name,
                    email=event.email,
                    address=event.address,
                    forgotten=False,
                    version=recorded.version,
                    registered_at=event.at,
                    updated_at=event.at,
                )
            )
            return
        case CustomerAddressChanged():
            changes: dict[str, Any] = {"address": event.address}
        case CustomerForgotten():
            changes = {"name": None, "email": None, "address": None, "forgotten": True}
        case _:
            return
    connection.execute(
        update(customers)
        .where(customers.c.id == recorded.stream_id)
        .values(**changes, version=recorded.version, updated_at=event.at)
    )


projection = Projection("customers", (customers,), apply)
