"""Customers for the API: the `customers` read table with personal values opened for their owner,
and everything held about one customer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.read import replicas
from api.read.queries import as_uuid
from store import customer_data, db, personal
from store.schema import customers

CUSTOMERS = "customers"  # the projection these reads are served from


def customer(
    url: str, master: personal.MasterKeys, customer_id: str, owner: str | None
) -> dict[str, Any] | None:
    """The customer, None when unknown or registered by another subject than `owner` (None: anyone's)."""
    key = as_uuid(customer_id)
    if key is None:
        return None
    with replicas.reading(url) as connection:
        row = connection.execute(select(customers).where(customers.c.id == key)).first()
    if row is None or (owner is not None and row.owner != owner):
        return None
    with db.reading(url) as connection:  # the key from the primary: a forgotten one is gone at once
        data_key = personal.data_keys(connection, master, [key])[key]
    return customer_data.opened_customer(row, data_key)


def data(url: str, master: personal.MasterKeys, customer_id: str, owner: str | None) -> dict[str, Any] | None:
    """Everything held about the customer (`store.customer_data`), for its owner or anyone's (None)."""
    key = as_uuid(customer_id)
    if key is None:
        return None
    with db.reading(url) as connection:  # the primary: keys, and the mailbox
        if owner is not None and customer_data.owner(connection, key) != owner:
            return None
        return customer_data.export(connection, master, key)
