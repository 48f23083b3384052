"""The mutation rate limit: a budget per credential (or per address for anonymous clients),
kept in the broker's Redis so every API process draws on the same one.

It is GCRA (a token bucket kept as one timestamp per key, updated by one Lua script on Redis's
clock): `rate` mutations per second, in bursts of up to twice that.
"""

from __future__ import annotations

import logging
import math

import redis.asyncio as aioredis
import redis.exceptions

from store import broker

log = logging.getLogger(__name__)

KEY_PREFIX = "eventshop:rate:"
# KEYS[1]: the key; ARGV: seconds per mutation, burst window in seconds, cost (mutations).
# Returns "0" when allowed, else the seconds to wait before this request would be.
SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * cost
local wait = new_tat - window - now
if wait > 0 then return tostring(wait) end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""


class RateLimiter:
    def __init__(self, broker_url: str, rate: float) -> None:
        url = broker.client_url(broker_url)
        self._rate = rate
        self._client = None if url is None or rate <= 0 else aioredis.Redis.from_url(url, socket_timeout=1)
        self._script = None if self._client is None else self._client.register_script(SCRIPT)

    async def wait_needed(self, key: str, cost: int) -> float:
        """0 if `key` may make `cost` mutations now (and they are counted), else the seconds to
        wait. Without Redis, or if it does not answer, nothing is limited."""
        if self._script is None or cost <= 0:
            return 0.0
        interval, burst_window = 1 / self._rate, 2.0
        try:
            answer = await self._script(keys=[KEY_PREFIX + key], args=[interval, burst_window, cost])
        except (redis.exceptions.RedisError, OSError):
            log.warning("rate limit not checked: the broker's Redis did not answer")
            return 0.0
        return float(answer)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def retry_after(wait: float) -> str:
    """The Retry-After header's whole seconds for a wait."""
    return str(max(1, math.ceil(wait)))
