"""Ringing a worker: Celery tasks sent by name, from a thread so the event loop never blocks."""

from __future__ import annotations

import asyncio
import logging

from store import coalesce
from store.celery_config import HANDLE_COMMANDS, celery_app
from store.settings import Settings

log = logging.getLogger(__name__)


class Doorbell:
    def __init__(self, settings: Settings) -> None:
        self._celery = celery_app("eventshop-api", settings)
        self._timeout = settings.broker_timeout
        self._broker_url = settings.broker_url

    async def ring(self, partition: int) -> bool:
        """Ask a worker to drain the partition's mailbox; False if the broker did not take it in time."""
        try:
            await asyncio.wait_for(asyncio.to_thread(self._send, partition), self._timeout)
        except Exception as error:  # one line: while the broker is down every ring fails alike
            log.warning("doorbell for partition %s not sent: %s", partition, repr(error)[:300])
            return False
        return True

    def _send(self, partition: int) -> None:
        key = coalesce.partition(partition)
        if not coalesce.should_ring(self._broker_url, key):
            return
        try:
            self._send_task(partition)
        except Exception:
            coalesce.answered(self._broker_url, key)
            raise

    def _send_task(self, partition: int) -> None:
        self._celery.send_task(
            HANDLE_COMMANDS,
            args=[partition],
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        )
