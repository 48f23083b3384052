"""The live event feed of one API process: new events read once, in commit order, into a window of
recent events that every follower reads at its own pace.

A follower joins at a position inside the window (or at its end) and then takes the events after
it that pass its filter; together with reading from the store up to that position, it sees every
event once, with no gap. The window is bounded: when it moves past a follower that has not read
that far, the follower is told it is too slow (and is disconnected) instead of holding the feed,
the projector or anyone else back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from store import db, eventstore
from store.eventstore import RecordedEvent

log = logging.getLogger(__name__)

READ_BATCH = 1000
WINDOW = 10_000  # recent events kept for followers


class TooSlow(Exception):
    """The window moved past a follower: it reads events more slowly than they are written."""


@dataclass(eq=False)
class Follower:
    types: frozenset[str] | None
    stream_id: str | None
    cursor: int  # the last position it has been given (or skipped)
    on_too_slow: Callable[[], None]
    too_slow: bool = False

    def wants(self, event: RecordedEvent) -> bool:
        return (self.types is None or event.type in self.types) and (
            self.stream_id is None or event.stream_id == self.stream_id
        )


class EventFeed:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._followers: set[Follower] = set()
        self._window: deque[RecordedEvent] = deque()
        self._end: int | None = None  # the last position read into the window
        self._known = 0  # the last position known to be committed
        self._wakeup = asyncio.Event()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def following(self) -> bool:
        return bool(self._followers)

    async def end(self) -> int:
        """The last position read into the window (the head, when the feed starts)."""
        if self._end is None:
            self._end = await asyncio.to_thread(self._head)
            self._known = max(self._known, self._end)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return self._end

    async def join(
        self,
        cursor: int | None,
        types: list[str] | None,
        stream_id: str | None,
        on_too_slow: Callable[[], None],
    ) -> Follower | None:
        """A follower of the events after `cursor` (None: from now on); None when the window
        no longer holds them, and the caller should read further from the store first."""
        end = await self.end()
        start = self._window[0].position - 1 if self._window else end
        if cursor is None:
            cursor = end
        elif cursor < start:
            return None
        follower = Follower(None if types is None else frozenset(types), stream_id, cursor, on_too_slow)
        self._followers.add(follower)
        return follower

    def leave(self, follower: Follower) -> None:
        self._followers.discard(follower)

    async def next(self, follower: Follower) -> RecordedEvent:
        """The follower's next event, waiting for one if need be."""
        while True:
            if follower.too_slow:
                raise TooSlow(f"more than {WINDOW} events were written while it read none")
            if self._window and follower.cursor < self._window[-1].position:
                index = max(0, follower.cursor + 1 - self._window[0].position)
                for offset in range(index, len(self._window)):
                    event = self._window[offset]
                    follower.cursor = event.position
                    if follower.wants(event):
                        return event
            arrived = self._arrived
            await arrived.wait()

    def advanced(self, position: int) -> None:
        """Events up to `position` are committed."""
        if position > self._known:
            self._known = position
            self._wakeup.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                await self._read_new()
            except Exception:
                log.warning("could not read new events for the live feed; trying again", exc_info=True)
                await asyncio.sleep(1)
                self._wakeup.set()

    async def _read_new(self) -> None:
        assert self._end is not None
        while self._end < self._known:
            if not self._followers:
                self._window.clear()
                self._end = self._known
                return
            batch = await asyncio.to_thread(self._read, self._end)
            if not batch:
                return
            self._window.extend(batch)
            self._end = batch[-1].position
            self._skip_unwanted_streams(batch)
            self._trim()
            self._arrived.set()
            self._arrived = asyncio.Event()

    def _skip_unwanted_streams(self, batch: list[RecordedEvent]) -> None:
        """Followers of one stream that the batch does not touch move past it at once."""
        streams = {event.stream_id for event in batch}
        for follower in self._followers:
            untouched = follower.stream_id is not None and follower.stream_id not in streams
            if untouched and follower.cursor >= batch[0].position - 1:
                follower.cursor = max(follower.cursor, batch[-1].position)

    def _trim(self) -> None:
        while len(self._window) > WINDOW:
            self._window.popleft()
        start = self._window[0].position - 1
        for follower in list(self._followers):
            if follower.cursor < start and not follower.too_slow:
                follower.too_slow = True
                follower.on_too_slow()

    def _read(self, after: int) -> list[RecordedEvent]:
        with db.reading(self._database_url) as connection:
            return eventstore.read_all(connection, after, READ_BATCH)

    def _head(self) -> int:
        with db.reading(self._database_url) as connection:
            return eventstore.head(connection)
