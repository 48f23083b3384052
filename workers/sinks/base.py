"""What the relay publishes to: a sink takes messages in global order and keeps each once.

A sink is small: `open` connects (and creates what it needs), `last_position` says the position of
the newest event it holds (so a relay that died between publishing and saving its checkpoint does
not publish it twice), `publish` stores a batch in order or raises, `close` lets go. A Kafka sink
would be one more module like these: a producer with `enable.idempotence`, the aggregate type and
event type in the topic or a header, the stream id as the key (order per stream is per partition),
the position as a header, and `last_position` from the newest record of each partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Message:
    position: int
    stream_type: str
    event_type: str
    body: bytes  # the event as the feed shows it, as JSON


class SinkError(Exception):
    """The sink could not take the batch; the relay backs off and tries again from its checkpoint."""


class Sink(Protocol):
    name: str  # names the relay's checkpoint: a sink and its stream

    async def open(self) -> None: ...

    async def last_position(self) -> int | None: ...

    async def publish(self, messages: list[Message]) -> None: ...

    async def close(self) -> None: ...
