"""Celery tasks: thin doorbells that call the plain functions doing the work."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.exc import DBAPIError

from store import coalesce, metrics, notify
from store.celery_config import HANDLE_COMMANDS, PROJECT, REDELIVER
from workers import command_handler, doorbells, projector
from workers.celery import app, config
from workers.processes import order_process


def _backoff(retries: int) -> int:
    return int(min(2**retries, 30))


def after_batch(batch: command_handler.Batch) -> None:
    """Say which commands were handled, and ring the projector if events were appended."""
    notifying = time.perf_counter()
    notify.handled(config.broker_url, batch.outcomes)
    took = time.perf_counter() - notifying
    for _ in batch.outcomes:
        metrics.COMMAND_STAGE.labels("notify").observe(took)
    if batch.appended and coalesce.should_ring(config.broker_url, coalesce.PROJECTOR):
        project.delay()


def after_projecting(name: str, position: int) -> None:
    notify.projected(config.broker_url, name, position)


def ring(partitions: set[int]) -> None:
    """Ring the mailboxes a process manager (or a deadline) recorded commands in."""
    for partition in sorted(partitions):
        if coalesce.should_ring(config.broker_url, coalesce.partition(partition)):
            handle_commands.delay(partition)


@app.task(name=HANDLE_COMMANDS, bind=True, max_retries=None)
def handle_commands(self: Any, partition: int) -> int:
    """Drain one partition's mailbox."""
    coalesce.answered(config.broker_url, coalesce.partition(partition))
    try:
        return command_handler.drain(config, partition, on_batch=after_batch)
    except command_handler.TransientError as error:
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error


@app.task(name=PROJECT, bind=True, max_retries=None)
def project(self: Any, name: str | None = None) -> int:
    """Catch one projection (or, without a name, every projection) up to the head."""
    if name is None:
        coalesce.answered(config.broker_url, coalesce.PROJECTOR)
    try:
        return projector.catch_up_all(config, [name] if name else projector.names(), after_projecting, ring)
    except (DBAPIError, projector.RetryLater) as error:
        raise self.retry(exc=error, countdown=_backoff(self.request.retries)) from error


@app.task(name=REDELIVER)
def redeliver() -> dict[str, list[Any]]:
    """Beat's safety net: ring again for every mailbox and projection left waiting (I6), and
    fire the deadlines that are due."""
    ring(order_process.fire_due_deadlines(config))
    partitions = doorbells.stale_partitions(config)
    for partition in partitions:
        handle_commands.delay(partition)
    lagging = doorbells.lagging_projections(config)
    for name in lagging:
        project.delay(name)
    return {"partitions": partitions, "projections": lagging}
