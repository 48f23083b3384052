"""Coalesced doorbells: one ring waits per name until it is answered; other brokers always ring."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest
import redis

from api.write.doorbell import Doorbell
from store import coalesce
from store.celery_config import COMMANDS_QUEUE
from tests.config import config


def test_a_second_ring_waits_for_the_first_to_be_answered(broker: str) -> None:
    name = coalesce.partition(uuid.uuid4().int % 1000)
    assert coalesce.should_ring(broker, name) is True
    assert coalesce.should_ring(broker, name) is False
    coalesce.answered(broker, name)
    assert coalesce.should_ring(broker, name) is True


def test_other_brokers_and_an_unreachable_redis_always_ring() -> None:
    amqp = "amqp://guest@127.0.0.1//"
    assert coalesce.should_ring(amqp, "x") and coalesce.should_ring(amqp, "x")
    unreachable = "redis://127.0.0.1:1/0"
    assert coalesce.should_ring(unreachable, "x") and coalesce.should_ring(unreachable, "x")
    coalesce.answered(unreachable, "x")


def test_the_apis_doorbell_sends_one_task_while_one_waits_and_frees_its_ring_when_it_cannot_send(
    broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_URL", broker)
    client = redis.Redis.from_url(broker)

    async def scenario() -> list[bool]:
        doorbell = Doorbell(config())
        rung = [await doorbell.ring(3), await doorbell.ring(3), await doorbell.ring(4)]
        coalesce.answered(broker, coalesce.partition(3))
        rung.append(await doorbell.ring(3))
        with monkeypatch.context() as broken:
            broken.setattr(doorbell, "_send_task", _unsendable)
            rung.append(await doorbell.ring(5))
        rung.append(await doorbell.ring(5))
        await doorbell.close()
        return rung

    assert asyncio.run(scenario()) == [True, True, True, True, False, True]
    sent = [
        json.loads(base64.b64decode(json.loads(m)["body"]))[0][0]
        for m in client.lrange(COMMANDS_QUEUE, 0, -1)
    ]
    assert sorted(sent) == [3, 3, 4, 5]


def _unsendable(partition: int) -> None:
    raise ConnectionError("broker down")
