"""The Prometheus metrics every eventshop process exports, each defined once here.

Processes that fork (API processes, Celery's pool) keep their samples in one multiprocess
directory, `PROMETHEUS_MULTIPROC_DIR` (set by `eventshop up` and `eventshop run` to the data
folder's `metrics/`, before prometheus_client is imported); whoever serves `/metrics` adds up that
directory and reads the store's positions and mailbox depths at scrape time (`StoreCollector`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from store import db, eventstore, logs
from store.schema import commands, events, projections, relay_positions

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

GRAPHQL_REQUESTS = Counter(
    "eventshop_graphql_requests",
    "GraphQL requests answered, by operation type, outcome and client name (apollographql-client-name;"
    " the first 50 names a process sees, then other; unknown when none is sent)",
    ["operation", "outcome", "client"],
)  # fmt: skip
GRAPHQL_DURATION = Histogram(
    "eventshop_graphql_request_duration_seconds", "Time to answer a GraphQL request", ["operation"],
    buckets=LATENCY_BUCKETS,
)  # fmt: skip
GRAPHQL_OPERATION_DURATION = Histogram(
    "eventshop_graphql_operation_duration_seconds",
    "Time to answer a GraphQL request over HTTP, by operation name (the first 50 names a process"
    " sees, then other; anonymous when the operation has none or did not run)",
    ["name"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_IN_FLIGHT = Gauge(
    "eventshop_graphql_requests_in_flight", "GraphQL requests being answered", multiprocess_mode="livesum"
)
WAITS = Counter("eventshop_waits", "Mutation waits and consistent reads, by stage asked for and outcome",
                ["stage", "outcome"])  # fmt: skip
COMMANDS = Counter(
    "eventshop_commands", "Commands handled by workers, by type and final status", ["type", "status"]
)
COMMAND_HANDLE_DURATION = Histogram(
    "eventshop_command_handle_duration_seconds",
    "Time a worker takes to handle one partition batch, from reading it to its commit",
    buckets=LATENCY_BUCKETS,
)
COMMAND_BATCH_SIZE = Histogram(
    "eventshop_command_batch_size", "Commands per partition batch", buckets=BATCH_BUCKETS
)
COMMAND_STAGE = Histogram(
    "eventshop_command_stage_seconds",
    "Seconds each command spends in each stage: record (the API's durable write, group commit"
    " included), queue (recorded until a worker took it: the broker and the wait for a worker),"
    " lock (waiting for its partition's and aggregates' locks), decide, commit (the append, the"
    " outcomes and COMMIT) and notify (telling every API host it was handled)",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
EVENT_PROJECTED = Histogram(
    "eventshop_event_projected_seconds",
    "Seconds from an event's commit until a projection's commit applied it, by projection",
    ["projection"],
    buckets=STAGE_BUCKETS,
)
EVENTS_APPENDED = Counter("eventshop_events_appended", "Events appended to the store")
READS = Counter(
    "eventshop_reads", "Read connections the API took, by source (primary or replica)", ["source"]
)
RELAY_PUBLISHED = Counter("eventshop_relay_published", "Events the relay published, by sink", ["sink"])
EVENTS_PROJECTED = Counter("eventshop_events_projected", "Events applied by projections", ["projection"])


def registry(database_url: str) -> CollectorRegistry:
    """Every process's metrics (those sharing the multiprocess directory, or this process's alone)
    and the store's, collected at each scrape."""
    found = CollectorRegistry()
    if os.environ.get(DIRECTORY_VARIABLE):
        MultiProcessCollector(found)  # type: ignore[no-untyped-call]
    else:
        found.register(REGISTRY)
    found.register(StoreCollector(database_url))
    return found


def serve(database_url: str, port: int) -> None:
    """Serve `/metrics` on `port` (every process sharing this machine's metrics directory, and the
    store's); if another process holds the port, it serves the same."""
    from prometheus_client import start_http_server

    try:
        start_http_server(port, registry=registry(database_url))
    except OSError:
        logs.get(__name__).info("metrics port taken; another process serves it", port=port)


def exposition(database_url: str) -> bytes:
    """`registry(database_url)` in Prometheus's text format."""
    return generate_latest(registry(database_url))


class StoreCollector(Collector):
    """Read at scrape time: projection positions, lag and state, the head, and mailbox depths."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url

    def describe(self) -> Iterator[Metric]:
        """The families `collect` yields, without reading the database."""
        yield from _store_families(0).values()

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        with db.reading(self._url) as connection:
            head = eventstore.head(connection)
            found = _store_families(head)
            for row in connection.execute(
                select(projections.c.name, projections.c.position, projections.c.status)
            ):
                found["position"].add_metric([row.name], row.position)
                found["lag"].add_metric([row.name], head - row.position)
                found["halted"].add_metric([row.name], 1 if row.status == "HALTED" else 0)
                oldest = connection.execute(
                    select(events.c.recorded_at).where(events.c.position == row.position + 1)
                ).scalar()
                found["seconds"].add_metric([row.name], (now - oldest).total_seconds() if oldest else 0.0)
            pending = connection.execute(
                select(commands.c.partition, func.count())
                .where(commands.c.status == "PENDING")
                .group_by(commands.c.partition)
            )
            for partition, count in pending:
                found["depth"].add_metric([str(partition)], count)
            for sink, position in connection.execute(
                select(relay_positions.c.sink, relay_positions.c.position)
            ):
                found["relay_position"].add_metric([sink], position)
                found["relay_lag"].add_metric([sink], head - position)
        yield from found.values()


def _store_families(head: int) -> dict[str, GaugeMetricFamily]:
    labels = ["projection"]
    return {
        "head": GaugeMetricFamily("eventshop_event_store_head", "Position of the last event", value=head),
        "position": GaugeMetricFamily("eventshop_projection_position", "Last event applied", labels=labels),
        "lag": GaugeMetricFamily("eventshop_projection_lag_events", "Events behind the head", labels=labels),
        "seconds": GaugeMetricFamily(
            "eventshop_projection_lag_seconds", "Age of the oldest event not applied yet", labels=labels
        ),
        "halted": GaugeMetricFamily(
            "eventshop_projection_halted", "1 while halted at an event", labels=labels
        ),
        "depth": GaugeMetricFamily(
            "eventshop_mailbox_depth", "Pending commands per partition", labels=["partition"]
        ),
        "relay_position": GaugeMetricFamily(
            "eventshop_relay_position", "Last event the relay published, by sink", labels=["sink"]
        ),
        "relay_lag": GaugeMetricFamily(
            "eventshop_relay_lag_events", "Events the relay has not published yet, by sink", labels=["sink"]
        ),
    }
