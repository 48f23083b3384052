"""Persisted documents shared by every API host through the broker's Redis: a document registered
on one host is found by its hash on the others. Bounded: documents of at most 16 KiB, kept an
hour, and at most 10,000 new ones an hour (past that, each host still keeps its own cache)."""

from __future__ import annotations

import contextlib
import logging
import time

import redis.asyncio as aioredis
import redis.exceptions

from store import broker

log = logging.getLogger(__name__)

KEY_PREFIX = "eventshop:apq:"
LARGEST = 16 * 1024
KEPT_SECONDS = 3600
NEW_PER_HOUR = 10_000
QUIET_AFTER_FAILURE = 5.0  # seconds without asking Redis once it did not answer


class SharedDocuments:
    def __init__(self, url: str) -> None:
        self._client = aioredis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._quiet_until = 0.0

    @classmethod
    def for_broker(cls, broker_url: str) -> SharedDocuments | None:
        url = broker.client_url(broker_url)
        return None if url is None else cls(url)

    async def get(self, sha256: str) -> str | None:
        if time.monotonic() < self._quiet_until:
            return None
        try:
            found = await self._client.get(KEY_PREFIX + sha256)
        except (redis.exceptions.RedisError, OSError):
            self._failed()
            return None
        if found is None:
            return None
        return found.decode() if isinstance(found, bytes) else str(found)

    async def put(self, sha256: str, document: str) -> None:
        if len(document.encode()) > LARGEST or time.monotonic() < self._quiet_until:
            return
        key = KEY_PREFIX + sha256
        budget = f"{KEY_PREFIX}budget:{int(time.time() // 3600)}"
        try:
            if await self._client.exists(key):
                return
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.incr(budget)
                pipe.expire(budget, 2 * KEPT_SECONDS)
                spent, _ = await pipe.execute()
            if int(spent) <= NEW_PER_HOUR:
                await self._client.set(key, document, ex=KEPT_SECONDS, nx=True)
        except (redis.exceptions.RedisError, OSError):
            self._failed()

    def _failed(self) -> None:
        log.warning("persisted documents: the broker's Redis did not answer; each host keeps its own")
        self._quiet_until = time.monotonic() + QUIET_AFTER_FAILURE

    async def close(self) -> None:
        with contextlib.suppress(redis.exceptions.RedisError, OSError):
            await self._client.aclose()
