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

HANDLED = "eventshop:handled"
PROJECTED = "eventshop:projected"


def handled(broker_url: str, outcomes: Sequence[Outcome]) -> None:
    """These commands were committed with these outcomes."""
    _publish(broker_url, HANDLED, [[o.command_id, o.status, o.error, o.position] for o in outcomes])


def projected(broker_url: str, name: str, position: int) -> None:
    """Projection `name` committed its checkpoint at `position`."""
    _publish(broker_url, PROJECTED, [name, position])


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
