"""Ringing a worker: Celery tasks sent by name, from a thread so the event loop never blocks.

Rings coalesce (`store.coalesce`): the key saying a ring is already waiting is set from the event
loop, so the many rings that find one waiting cost one Redis call and no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis
import redis.asyncio as aioredis

from store import coalesce
from store.broker import client_url
from store.celery_config import HANDLE_COMMANDS, celery_app
from store.settings import Settings

log = logging.getLogger(__name__)


class Doorbell:
    def __init__(self, settings: Settings) -> None:
        self._celery = celery_app("eventshop-api", settings)
        self._timeout = settings.broker_timeout
        url = client_url(settings.broker_url)
        self._coalescer = (
            None if url is None else aioredis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        )

    async def ring(self, partition: int) -> bool:
        """Ask a worker to drain the partition's mailbox; False if the broker did not take it in time."""
        key = coalesce.key(coalesce.partition(partition))
        try:
            if await self._waiting(key):
                return True
            await asyncio.wait_for(asyncio.to_thread(self._send_task, partition), self._timeout)
        except Exception as error:  # one line: while the broker is down every ring fails alike
            log.warning("doorbell for partition %s not sent: %s", partition, repr(error)[:300])
            await self._forget(key)
            return False
        return True

    async def close(self) -> None:
        if self._coalescer is not None:
            await self._coalescer.aclose()

    async def _waiting(self, key: str) -> bool:
        """Whether a ring is already waiting; if not, this one is marked as waiting."""
        if self._coalescer is None:
            return False
        try:
            return not await self._coalescer.set(key, 1, nx=True, px=coalesce.TTL_MS)
        except redis.RedisError:
            return False

    async def _forget(self, key: str) -> None:
        """The ring was not sent: the next one must not think it waits."""
        if self._coalescer is not None:
            with contextlib.suppress(redis.RedisError):
                await self._coalescer.delete(key)

    def _send_task(self, partition: int) -> None:
        self._celery.send_task(
            HANDLE_COMMANDS,
            args=[partition],
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        )
