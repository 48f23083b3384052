"""Redis Streams: one stream whose entry ids are the events' positions (`<position>-0`, field
`event`), so entries are in global order, a consumer reads a range by position, and an entry
already there cannot be added twice. Trimmed only by a configured MAXLEN (approximate)."""

from __future__ import annotations

import contextlib

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from workers.sinks.base import Message, SinkError

TIMEOUT = 5.0


class RedisStreamSink:
    def __init__(self, url: str, stream: str, maxlen: int | None) -> None:
        self.name = f"redis:{stream}"
        self._url, self._stream, self._maxlen = url, stream, maxlen
        self._client: aioredis.Redis | None = None

    async def open(self) -> None:
        self._client = aioredis.Redis.from_url(
            self._url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
        )
        try:
            await self._client.ping()
        except (RedisError, OSError) as error:
            await self.close()
            raise SinkError(f"Redis at {self._url}: {error}") from error

    async def last_position(self) -> int | None:
        try:
            newest = await self._connected().xrevrange(self._stream, count=1)
        except (RedisError, OSError) as error:
            raise SinkError(f"Redis stream {self._stream}: {error}") from error
        if not newest:
            return None
        entry_id = newest[0][0]
        return int((entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)).split("-")[0])

    async def publish(self, messages: list[Message]) -> None:
        client = self._connected()
        try:
            async with client.pipeline(transaction=False) as pipe:
                for message in messages:
                    pipe.xadd(
                        self._stream,
                        {"event": message.body},
                        id=f"{message.position}-0",
                        maxlen=self._maxlen,
                        approximate=True,
                    )
                results = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError) as error:
            raise SinkError(f"Redis stream {self._stream}: {error}") from error
        for result in results:
            if isinstance(result, ResponseError) and "equal or smaller" not in str(result):
                raise SinkError(f"Redis stream {self._stream}: {result}")  # already there: kept once

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    def _connected(self) -> aioredis.Redis:
        if self._client is None:
            raise SinkError("Redis is not connected")
        return self._client
