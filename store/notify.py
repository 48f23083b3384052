"""Notifications on the broker's Redis: command workers say which commands they handled, projectors
how far they got, so the API answers waiting requests without polling the database.

Best effort by design: a message lost (Redis restarting, a subscriber reconnecting) only delays a
waiter until the API's next check of the database, about once a second. On a broker other than
Redis nothing is published and the API relies on those checks alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import redis

from store import broker
from store.mailbox import Outcome

log = logging.getLogger(__name__)

HANDLED = "handled"
PROJECTED = "projected"


def channel(broker_url: str, kind: str) -> str:
    """The channel of one kind of notification. Unlike queues, Redis's pub/sub channels are shared
    by every database of a server, so each database's notifications go on channels of their own:
    two systems on one Redis server never hear each other."""
    client = broker.redis_client(broker_url)
    database = client.connection_pool.connection_kwargs.get("db", 0) if client is not None else 0
    return f"eventshop:{database}:{kind}"


def handled(broker_url: str, outcomes: Sequence[Outcome]) -> None:
    """These commands were committed with these outcomes."""
    payload = [[o.command_id, o.status, o.error, o.position] for o in outcomes]
    _publish(broker_url, channel(broker_url, HANDLED), payload)


def projected(broker_url: str, name: str, position: int) -> None:
    """Projection `name` committed its checkpoint at `position`."""
    _publish(broker_url, channel(broker_url, PROJECTED), [name, position])


def decode(message: bytes | str) -> Any:
    return json.loads(message)


def _publish(broker_url: str, channel: str, payload: Any) -> None:
    client = broker.redis_client(broker_url)
    if client is None:
        return
    try:
        client.publish(channel, json.dumps(payload, separators=(",", ":")))
    except redis.RedisError:
        log.warning("could not publish on %s; waiters will find out at their next check", channel)
