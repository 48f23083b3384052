"""NATS JetStream: one stream (created if missing) over the subjects `<subject>.>`, each event on
`<subject>.<aggregate type>.<event type>` with its position as `Nats-Msg-Id`, so JetStream drops
a republished duplicate within its duplicate window."""

from __future__ import annotations

import contextlib

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from workers.sinks.base import Message, SinkError

TIMEOUT = 5.0


class JetStreamSink:
    def __init__(self, url: str, stream: str, subject: str) -> None:
        self.name = f"nats:{stream}"
        self._url, self._stream, self._subject = url, stream, subject
        self._client: Client | None = None
        self._js: JetStreamContext | None = None

    async def open(self) -> None:
        try:
            self._client = await nats.connect(
                self._url, connect_timeout=TIMEOUT, max_reconnect_attempts=0, allow_reconnect=False
            )
            self._js = self._client.jetstream(timeout=TIMEOUT)
            try:
                await self._js.stream_info(self._stream)
            except NotFoundError:
                await self._js.add_stream(StreamConfig(name=self._stream, subjects=[f"{self._subject}.>"]))
        except (NatsError, OSError, TimeoutError) as error:
            await self.close()
            raise SinkError(f"NATS at {self._url}: {error or type(error).__name__}") from error

    async def last_position(self) -> int | None:
        js = self._context()
        try:
            state = (await js.stream_info(self._stream)).state
            if not state.messages:
                return None
            last = await js.get_msg(self._stream, seq=state.last_seq)
        except (NatsError, OSError, TimeoutError) as error:
            raise SinkError(f"NATS stream {self._stream}: {error or type(error).__name__}") from error
        found = (last.headers or {}).get("Nats-Msg-Id")
        return int(found) if found and found.isdigit() else None

    async def publish(self, messages: list[Message]) -> None:
        js = self._context()
        try:
            for message in messages:
                subject = f"{self._subject}.{message.stream_type}.{message.event_type}"
                await js.publish(subject, message.body, headers={"Nats-Msg-Id": str(message.position)})
        except (NatsError, OSError, TimeoutError) as error:
            raise SinkError(f"NATS stream {self._stream}: {error or type(error).__name__}") from error

    async def close(self) -> None:
        client, self._client, self._js = self._client, None, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(NatsError, OSError, TimeoutError):
                await client.close()

    def _context(self) -> JetStreamContext:
        if self._js is None:
            raise SinkError("NATS is not connected")
        return self._js
