"""Waiting for commands to be handled and projections to catch up, without polling.

One `Watcher` per API process listens on the broker's Redis for what workers and projectors
commit (`store.notify`) and wakes the requests waiting for it. What a request waits for may
already have happened, so the watcher reads it when the request starts waiting, in one query for
all the requests that started meanwhile; after that a waiting request is an entry in a dictionary
or a heap. Messages can be lost, so about once a second, and after every reconnection, the
watcher reads in one query the state of everything still waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis
import redis.exceptions
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from api.live.feed import EventFeed
from store import broker, db, eventstore, notify
from store.mailbox import PENDING
from store.schema import commands, projections

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0
STOP_WITHIN = 2.0
READ_CHUNK = 500

ALL_PROJECTIONS = "*"  # waits for every projection's checkpoint


@dataclass(frozen=True)
class Handled:
    status: str
    error: str | None
    position: int | None  # of the command's last event, None when it appended nothing


class Watcher:
    def __init__(self, database_url: str, broker_url: str) -> None:
        self._database_url = database_url
        self.feed = EventFeed(database_url)
        self._redis_url = broker.client_url(broker_url)
        self._handled = notify.channel(broker_url, notify.HANDLED)
        self._projected = notify.channel(broker_url, notify.PROJECTED)
        self._commands: dict[str, list[asyncio.Future[Handled]]] = {}
        self._positions: dict[str, int] = {}
        self._reached: dict[str, list[tuple[int, int, asyncio.Future[None]]]] = {}
        self._order = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._unread: set[str] = set()
        self._reading: asyncio.Task[None] | None = None
        self._refreshing: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._check_periodically())]
        if self._redis_url is not None:
            self._tasks.append(asyncio.create_task(self._listen(self._redis_url)))

    async def stop(self) -> None:
        """Stop listening and checking. redis-py can swallow a cancellation in the middle of a
        (re)connection, so the listener also polls a flag, and the wait for it is bounded."""
        self._stopping = True
        await self.feed.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.wait(self._tasks, timeout=STOP_WITHIN)

    async def handled(self, command_id: str, timeout: float) -> Handled | None:
        """The command's outcome once it is terminal; None if it is not within `timeout`."""
        future: asyncio.Future[Handled] = asyncio.get_running_loop().create_future()
        self._commands.setdefault(command_id, []).append(future)
        self._unread.add(command_id)
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read_unread())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return None
        finally:
            self._forget(command_id, future)

    async def reached(self, position: int, projection: str, timeout: float) -> bool:
        """Whether `projection` (or, with `ALL_PROJECTIONS`, every projection) has passed
        `position`, waiting up to `timeout` for it."""
        if self._position(projection) >= position:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._reached.setdefault(projection, []), (position, next(self._order), future))
        try:
            with contextlib.suppress(DBAPIError):  # the periodic check reads them again
                await self._refresh_positions()
            if not future.done():
                await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            future.cancel()

    def _position(self, projection: str) -> int:
        if projection == ALL_PROJECTIONS:
            return min(self._positions.values(), default=0)
        return self._positions.get(projection, 0)

    def _forget(self, command_id: str, future: asyncio.Future[Handled]) -> None:
        waiting = self._commands.get(command_id, [])
        if future in waiting:
            waiting.remove(future)
        if not waiting:
            self._commands.pop(command_id, None)

    def _on_handled(self, found: dict[str, Handled]) -> None:
        for command_id, outcome in found.items():
            for future in self._commands.pop(command_id, []):
                if not future.done():
                    future.set_result(outcome)

    def _on_positions(self, positions: dict[str, int], authoritative: bool) -> None:
        """New checkpoint positions: from the database (`authoritative`, which may also go back
        after a rebuild) or from notifications (which only move forward)."""
        for name, position in positions.items():
            known = self._positions.get(name, 0)
            self._positions[name] = position if authoritative else max(known, position)
        for projection, heap in self._reached.items():
            reached = self._position(projection)
            while heap and (heap[0][0] <= reached or heap[0][2].done()):
                _position, _order, future = heapq.heappop(heap)
                if not future.done():
                    future.set_result(None)

    async def _read_unread(self) -> None:
        """Read the commands that started being waited for, many at a time."""
        while self._unread:
            ids, self._unread = list(self._unread), set()
            try:
                self._on_handled(await asyncio.to_thread(self._read_commands, ids))
            except Exception:
                log.warning("could not read %d waited-for commands; the next check will", len(ids))

    async def _refresh_positions(self) -> None:
        """Read the checkpoints, or join a read already on its way (notifications cover whatever
        commits after it started)."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._read_and_apply_positions())
        await asyncio.shield(self._refreshing)

    async def _read_and_apply_positions(self) -> None:
        self._on_positions(await asyncio.to_thread(self._read_positions), authoritative=True)

    async def _check(self) -> None:
        """Read the state of everything waited for: the net under lost messages."""
        for heap in self._reached.values():
            heap[:] = [entry for entry in heap if not entry[2].done()]
            heapq.heapify(heap)
        if self._commands:
            self._on_handled(await asyncio.to_thread(self._read_commands, list(self._commands)))
        if any(self._reached.values()):
            await self._refresh_positions()
        if self.feed.following:
            self.feed.advanced(await asyncio.to_thread(self._read_head))

    async def _check_periodically(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY)
            try:
                await self._check()
            except Exception:
                log.warning("could not check on waiting requests", exc_info=True)

    async def _listen(self, url: str) -> None:
        while not self._stopping:
            client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._handled, self._projected)
                    await self._check()
                    while not self._stopping:
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if message is not None and message["type"] == "message":
                            self._dispatch(message["channel"], message["data"])
            except (redis.exceptions.RedisError, OSError):
                log.warning("notifications interrupted; listening again in 1 s")
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.aclose(), STOP_WITHIN)

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        try:
            payload = notify.decode(data)
            if channel.decode() == self._handled:
                found = {
                    command_id: Handled(status, error, position)
                    for command_id, status, error, position in payload
                }
                self._on_handled(found)
                self.feed.advanced(max((h.position or 0 for h in found.values()), default=0))
            else:
                name, position = payload
                self._on_positions({name: int(position)}, authoritative=False)
        except (ValueError, TypeError):
            log.warning("ignored a malformed notification on %r", channel)

    def _read_commands(self, command_ids: Iterable[str]) -> dict[str, Handled]:
        ids = list(command_ids)
        found: dict[str, Handled] = {}
        with db.reading(self._database_url) as connection:
            for start in range(0, len(ids), READ_CHUNK):
                rows = connection.execute(
                    select(commands.c.id, commands.c.status, commands.c.error, commands.c.position).where(
                        commands.c.id.in_(ids[start : start + READ_CHUNK]), commands.c.status != PENDING
                    )
                )
                found.update({row.id: Handled(row.status, row.error, row.position) for row in rows})
        return found

    def _read_head(self) -> int:
        with db.reading(self._database_url) as connection:
            return eventstore.head(connection)

    def _read_positions(self) -> dict[str, int]:
        with db.reading(self._database_url) as connection:
            rows = connection.execute(select(projections.c.name, projections.c.position))
            return {row.name: row.position for row in rows}
