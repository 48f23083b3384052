"""The SQL schema: the one module that owns every table (migrations mirror it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Position = BigInteger().with_variant(Integer(), "sqlite")
Document = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("stream_id", String(64), nullable=False),
    Column("stream_type", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(128), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Document, nullable=False),
    Column("metadata", Document, nullable=False),
    Column("command_id", String(64), nullable=True, index=True),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

# One row holding the last assigned global position; its row lock serialises appends (I3).
event_head = Table(
    "event_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", Position, nullable=False),
)

commands = Table(
    "commands",
    metadata,
    Column("seq", Position, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("aggregate_type", String(64), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("partition", Integer, nullable=False, server_default="0"),
    Column("payload", Document, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("actor", String(128), nullable=False),  # the subject
    Column("actor_credential", String(16), nullable=False, server_default="none"),
    Column("actor_roles", Document, nullable=False, server_default="[]"),
    Column("correlation_id", String(64), nullable=False),
    Column("causation_id", String(64), nullable=True),  # the event that caused it; None for a client's own
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("position", Position, nullable=True),  # of its last event: the consistency token
    Index("ix_commands_mailbox", "aggregate_id", "status", "seq"),
    Index("ix_commands_partition", "partition", "status", "seq"),
    Index("ix_commands_status", "status", "submitted_at"),
)

# Each time an operator put a FAILED command back in its mailbox: who, when, and how it had ended.
command_retries = Table(
    "command_retries",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("command_id", String(64), nullable=False, index=True),
    Column("retried_by", String(128), nullable=False),
    Column("retried_at", UTCDateTime, nullable=False),
    Column("previous_error", Text, nullable=True),
    Column("previous_attempts", Integer, nullable=False),
    Column("previous_completed_at", UTCDateTime, nullable=True),
)

# API keys for services: only a hash of each key is kept.
api_keys = Table(
    "api_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("roles", Document, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

projections = Table(
    "projections",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Position, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("error_position", Position, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A projection being rebuilt into shadow tables while its live version serves.
projection_rebuilds = Table(
    "projection_rebuilds",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Position, nullable=False),
    Column("target", Position, nullable=False),  # the head when the rebuild started
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Who skipped which event of a halted projection, and when.
projection_skips = Table(
    "projection_skips",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("projection", String(64), nullable=False, index=True),
    Column("position", Position, nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("error", Text, nullable=True),
    Column("skipped_by", String(128), nullable=False),
    Column("skipped_at", UTCDateTime, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("sku", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("price_amount", BigInteger, nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("categories", Text, nullable=False, server_default=""),  # "|a|b|" (store.product_rows)
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("created_position", Position, nullable=False, unique=True),
    # Catalog pages: one index per sort order (keyset on value, then creation), and on PostgreSQL
    # trigram indexes for case-insensitive substring search of name and sku.
    Index("ix_products_name", "name", "created_position"),
    Index("ix_products_price", "price_amount", "created_position"),
    Index("ix_products_updated", "updated_at", "created_position"),
)
for _column in ("name", "sku"):
    Index(
        f"ix_products_{_column}_trgm",
        products.c[_column],
        postgresql_using="gin",
        postgresql_ops={_column: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")

# Every version of every product with the interval in which it held (by the time its events were
# recorded): the catalog at any instant, without replaying it.
product_versions = Table(
    "product_versions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sku", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("price_amount", BigInteger, nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("categories", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("created_position", Position, nullable=False),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, nullable=True),  # None while it is the current version
    Index("ix_product_versions_created", "created_position", "valid_from", "valid_to"),
    Index("ix_product_versions_name", "name", "created_position"),
    Index("ix_product_versions_price", "price_amount", "created_position"),
    Index("ix_product_versions_updated", "updated_at", "created_position"),
)

# An aggregate's state at a version, so loading it reads only the events after that version.
snapshots = Table(
    "snapshots",
    metadata,
    Column("stream_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("state", Document, nullable=False),
    Column("taken_at", UTCDateTime, nullable=False),
)

product_prices = Table(
    "product_prices",
    metadata,
    Column("product_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("price_amount", BigInteger, nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

# Written in the append transaction itself, so a sku is never held by two live products.
sku_claims = Table(
    "sku_claims",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("product_id", String(64), nullable=False),
)

# Each sku's stock: units on hand and units held for orders.
stock = Table(
    "stock",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("placed_by", String(128), nullable=False),  # the subject that may read, pay and cancel it
    Column("status", String(16), nullable=False),
    Column("lines", Document, nullable=False),
    Column("total_amount", BigInteger, nullable=False),
    Column("total_currency", String(3), nullable=False),
    Column("reason", Text, nullable=True),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("payment_due_at", UTCDateTime, nullable=True),
    Column("correlation_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_position", Position, nullable=False, unique=True),
    Index("ix_orders_status", "status", "created_position"),
    Index("ix_orders_customer", "customer_id", "created_position"),
    Index("ix_orders_placed_by", "placed_by", "created_position"),
)

# The order process manager's state of each order, written with the commands it issues.
order_processes = Table(
    "order_processes",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("state", Document, nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Payment deadlines: armed with the process manager's state, fired by beat once due.
deadlines = Table(
    "deadlines",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("due_at", UTCDateTime, nullable=False, index=True),
    Column("correlation_id", String(64), nullable=False),
    Column("armed_by", Position, nullable=False),  # the position of the event that armed it
)

# Customers as the read side shows them: personal values sealed (store.personal), None once forgotten.
customers = Table(
    "customers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),  # the subject that registered it
    Column("name", Text, nullable=True),
    Column("email", Text, nullable=True),
    Column("address", Text, nullable=True),
    Column("forgotten", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_customers_owner", "owner"),
)

# Each personal-data subject's data key, wrapped by a master key; a forgotten subject keeps its row
# without a key (so no key is ever made for it again).
personal_keys = Table(
    "personal_keys",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("wrapped_by", String(16), nullable=True),  # the master key's id (store.personal.key_id)
    Column("wrapped", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("forgotten_at", UTCDateTime, nullable=True),
)

# The outbox relay's place in the global feed, per sink: every event up to `position` is published.
relay_positions = Table(
    "relay_positions",
    metadata,
    Column("sink", String(200), primary_key=True),
    Column("position", Position, nullable=False),
    Column("published", Position, nullable=False),  # events published since the row was made
    Column("error", Text, nullable=True),  # the sink's last failure, None once it publishes again
    Column("updated_at", UTCDateTime, nullable=False),
)
