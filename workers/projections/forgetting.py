"""Forgetting a customer: its data key is deleted in the transaction that appends
`CustomerForgotten`, so once the command has succeeded nothing sealed for it can be read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from domain.customer import CustomerForgotten
from store import personal
from workers.projections.base import InlineProjection


def apply(connection: Connection, event: Any) -> None:
    if isinstance(event, CustomerForgotten):
        personal.forget(connection, event.customer_id, event.at)


projection = InlineProjection("forgetting", (), apply, (CustomerForgotten,))
