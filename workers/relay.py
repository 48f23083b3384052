"""The outbox relay: follows the global feed from its checkpoint and publishes every event, at
least once and in global order (so in order per stream), to the sink EVENTSHOP_PUBLISH names.

The event store is the outbox: nothing else is written when a command succeeds. The relay
publishes a batch, then saves its position; if it dies in between, it asks the sink for the newest
position it holds when it starts again, so nothing is published twice and nothing is skipped. A
sink that fails (down, full, unreachable) is retried with a growing pause, from the checkpoint.
Run one relay per sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from store import db, event_view, eventstore, logs, metrics
from store.schema import relay_positions
from store.settings import Settings
from workers.sinks.base import Message, Sink, SinkError

log = logs.get(__name__)

BATCH = 500
IDLE = 0.1  # seconds between looks at the head while caught up
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 10.0


def body(event: eventstore.RecordedEvent) -> bytes:
    """The event as the feed shows it, as JSON."""
    shown = event_view.shown(event)
    return json.dumps({**shown, "recordedAt": event.recorded_at.isoformat()}, separators=(",", ":")).encode()


def messages(url: str, after: int, limit: int, until: int | None = None) -> list[Message]:
    with db.reading(url) as connection:
        found = eventstore.read_all(connection, after, limit)
    return [
        Message(event.position, event.stream_type, event.type, body(event))
        for event in found
        if until is None or event.position <= until
    ]


def checkpoint(url: str, sink: str) -> int:
    """The position up to which `sink` holds every event (a new sink starts at 0)."""
    with db.writing(url) as connection:
        found = connection.execute(
            select(relay_positions.c.position).where(relay_positions.c.sink == sink)
        ).scalar_one_or_none()
        if found is None:
            connection.execute(
                relay_positions.insert().values(
                    sink=sink, position=0, published=0, updated_at=datetime.now(UTC)
                )
            )
        return int(found or 0)


def save(url: str, sink: str, position: int, published: int, error: str | None = None) -> None:
    with db.writing(url) as connection:
        connection.execute(
            update(relay_positions)
            .where(relay_positions.c.sink == sink)
            .values(
                position=position,
                published=relay_positions.c.published + published,
                error=error,
                updated_at=datetime.now(UTC),
            )
        )


def positions(url: str) -> list[dict[str, Any]]:
    """Every sink's position, what it published, its last error and when it last moved."""
    with db.reading(url) as connection:
        rows = connection.execute(select(relay_positions).order_by(relay_positions.c.sink))
        return [dict(row._mapping) for row in rows]


async def _start(url: str, sink: Sink) -> int:
    await sink.open()
    return await asyncio.to_thread(_resume_from, url, sink.name, await sink.last_position())


def _resume_from(url: str, sink: str, held: int | None) -> int:
    """The position to go on from: the checkpoint, or further if the sink already holds later
    events (published just before a crash), never past the store's head."""
    saved = checkpoint(url, sink)
    with db.reading(url) as connection:
        head = eventstore.head(connection)
    if held is not None and held > head:
        raise SinkError(
            f"{sink} holds position {held}, past this store's head ({head}): "
            "another store's stream, or a store restored from an older backup"
        )
    if held is not None and saved < held:
        log.info("the sink holds events after the checkpoint; going on after them", sink=sink, position=held)
        save(url, sink, held, 0)
        return held
    return saved


async def run(config: Settings, sink: Sink, stop: asyncio.Event) -> None:
    """Publish until `stop` is set, riding out sink and database outages."""
    url, pause, position, connected = config.database_url, FIRST_PAUSE, 0, False
    while not stop.is_set():
        try:
            if not connected:
                position = await _start(url, sink)
                connected = True
                log.info("relay publishing", sink=sink.name, position=position)
            batch = await asyncio.to_thread(messages, url, position, BATCH)
            if not batch:
                await _pause(stop, IDLE)
                continue
            await sink.publish(batch)
            position = batch[-1].position
            await asyncio.to_thread(save, url, sink.name, position, len(batch))
            metrics.RELAY_PUBLISHED.labels(sink.name).inc(len(batch))
            pause = FIRST_PAUSE
        except (SinkError, DBAPIError) as error:
            reason = str(error).splitlines()[0]
            log.warning("relay paused; trying again", sink=sink.name, error=reason, pause=pause)
            await sink.close()
            connected = False
            if isinstance(error, SinkError):
                await asyncio.to_thread(_note_failure, url, sink.name, reason)
            await _pause(stop, pause)
            pause = min(pause * 2, LONGEST_PAUSE)
    await sink.close()


async def replay(config: Settings, sink: Sink, start: int, end: int | None) -> int:
    """Publish the events from position `start` to `end` again, never past the relay's checkpoint
    (what the relay has not published yet is its to publish, in order); the checkpoint stays.
    Returns how many."""
    published = await asyncio.to_thread(checkpoint, config.database_url, sink.name)
    end = published if end is None else min(end, published)
    if start > end:
        return 0
    await sink.open()
    try:
        sent, position = 0, start - 1
        while batch := await asyncio.to_thread(messages, config.database_url, position, BATCH, end):
            await sink.publish(batch)
            sent, position = sent + len(batch), batch[-1].position
        return sent
    finally:
        await sink.close()


def _note_failure(url: str, sink: str, reason: str) -> None:
    with contextlib.suppress(DBAPIError), db.writing(url) as connection:  # down too: the log says so
        connection.execute(
            update(relay_positions)
            .where(relay_positions.c.sink == sink)
            .values(error=reason[:500], updated_at=datetime.now(UTC))
        )


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
