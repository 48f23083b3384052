"""Coalescing doorbells on Redis: at most one ring waiting per partition or projector.

A ringer sets a short-lived key before it sends and skips the send if the key is there; the task
deletes the key *before* it reads the database. Whatever committed before the delete is read by
that task; whatever commits after it rings again. On other brokers every ring is sent.
"""

from __future__ import annotations

import contextlib

import redis

from store import broker

TTL_MS = 10_000
PROJECTOR = "projector"


def partition(number: int) -> str:
    """The coalescing name of a partition's mailbox doorbell."""
    return f"partition:{number}"


def key(name: str) -> str:
    """The Redis key that says a ring for `name` is waiting."""
    return f"eventshop:rung:{name}"


def should_ring(broker_url: str, name: str) -> bool:
    """False when a ring for `name` is already waiting to be answered."""
    client = broker.redis_client(broker_url)
    if client is None:
        return True
    try:
        return bool(client.set(key(name), 1, nx=True, px=TTL_MS))
    except redis.RedisError:
        return True


def answered(broker_url: str, name: str) -> None:
    """The ring for `name` is being answered: the next change must ring again."""
    client = broker.redis_client(broker_url)
    if client is None:
        return
    with contextlib.suppress(redis.RedisError):
        client.delete(key(name))
