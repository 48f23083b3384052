"""The Celery application that `celery -A workers` finds, the settings its process runs with, and
its logs and metrics endpoint."""

from __future__ import annotations

from typing import Any

from celery import signals

from store import logs, settings
from store.celery_config import celery_app

config = settings.load()
app = celery_app("eventshop", config, include=["workers.tasks"])


@signals.setup_logging.connect
def _logs(**_: Any) -> None:
    """eventshop's log lines rather than Celery's own format (Celery then leaves logging alone)."""
    logs.configure(config.json_logs, config.log_level)


@signals.worker_init.connect
def _metrics_endpoint(**_: Any) -> None:
    """With EVENTSHOP_METRICS_PORT, serve `/metrics` (every process sharing this machine's
    metrics directory, and the store's); if another process holds the port, it serves the same."""
    if config.metrics_port is not None:
        from store import metrics

        metrics.serve(config.database_url, config.metrics_port)
