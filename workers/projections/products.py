"""The `products` read table, which `product` and `products` serve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from store.eventstore import RecordedEvent
from store.product_rows import Row, evolve_row
from store.schema import products
from workers.failpoints import hit
from workers.projections.base import Batch, Projection


def apply(connection: Connection, recorded: RecordedEvent, event: Any) -> None:
    apply_batch(connection, [(recorded, event)])


def apply_batch(connection: Connection, batch: Batch) -> None:
    """Fold the batch into the rows it touches, then write them with a few set-wise statements."""
    ids = {recorded.stream_id for recorded, _ in batch}
    found = connection.execute(select(products).where(products.c.id.in_(ids)))
    before: dict[str, Row] = {row.id: dict(row._mapping) for row in found}
    after: dict[str, Row | None] = dict(before)
    for recorded, event in batch:
        hit("project.products", recorded.data)
        after[recorded.stream_id] = evolve_row(after.get(recorded.stream_id), recorded, event)
    gone = [key for key, row in after.items() if row is None and key in before]
    new = [row for key, row in after.items() if row is not None and key not in before]
    changed = [row for key, row in after.items() if row is not None and key in before and row != before[key]]
    if gone:
        connection.execute(delete(products).where(products.c.id.in_(gone)))
    if new:
        connection.execute(insert(products), new)
    if changed:
        columns = [column.name for column in products.c if column.name != "id"]
        statement = (
            update(products)
            .where(products.c.id == bindparam("key"))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        connection.execute(
            statement,
            [{"key": row["id"], **{f"new_{name}": row[name] for name in columns}} for row in changed],
        )


projection = Projection("products", (products,), apply, apply_batch)
