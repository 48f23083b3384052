"""Coalesced doorbells: one ring waits per name until it is answered; other brokers always ring."""

from __future__ import annotations

import uuid

from store import coalesce


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
