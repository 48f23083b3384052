"""Coalesced doorbells: one ring waits per name until it is answered; other brokers always ring."""

from __future__ import annotations

import uuid

import pytest

from store import coalesce


def test_a_second_ring_waits_for_the_first_to_be_answered(
    broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_URL", broker)
    name = coalesce.partition(uuid.uuid4().int % 1000)
    assert coalesce.should_ring(name) is True
    assert coalesce.should_ring(name) is False
    coalesce.answered(name)
    assert coalesce.should_ring(name) is True


def test_other_brokers_and_an_unreachable_redis_always_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROKER_URL", "amqp://guest@127.0.0.1//")
    assert coalesce.should_ring("x") and coalesce.should_ring("x")
    monkeypatch.setenv("BROKER_URL", "redis://127.0.0.1:1/0")
    assert coalesce.should_ring("x") and coalesce.should_ring("x")
    coalesce.answered("x")
