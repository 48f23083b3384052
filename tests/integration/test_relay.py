"""The outbox relay on real sinks — NATS JetStream and Redis Streams: every event once, in global
order, as the feed shows it; a sink outage ridden out from the checkpoint; a relay that died after
publishing goes on after what the sink holds; `relay replay` publishes a range again."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
import redis
from typer.testing import CliRunner

from eventshop.cli import app
from store import db, eventstore, settings
from tests.conftest import free_port
from tests.e2e.client import wait_for
from tests.integration.helpers import create, drain_all, record, rename
from tests.nats_server import NatsServer
from workers import relay
from workers.sinks import sink_for
from workers.sinks.base import SinkError

Sink = tuple[str, str]  # EVENTSHOP_PUBLISH and EVENTSHOP_PUBLISH_STREAM


def write(products: int) -> int:
    """Products created and renamed through the mailbox; the head after them."""
    for n in range(products):
        product_id = str(uuid.uuid4())
        record(create(product_id, sku=f"RL-{product_id[:8].upper()}"))
        record(rename(product_id, f"renamed {n}"))
    drain_all()
    with db.reading(settings.load().database_url) as connection:
        return eventstore.head(connection)


def held(sink: Sink) -> list[dict[str, Any]]:
    """What the sink holds, in its order: each message's position (its id) and its event."""
    url, stream = sink
    if url.startswith("redis"):
        with redis.Redis.from_url(url) as client:
            entries = client.xrange(stream)
        return [{"id": int(i.decode().split("-")[0]), **json.loads(f[b"event"])} for i, f in entries]

    async def read() -> list[dict[str, Any]]:
        client = await nats.connect(url)
        js = client.jetstream()
        found = []
        for seq in range(1, (await js.stream_info(stream)).state.last_seq + 1):
            message = await js.get_msg(stream, seq)
            event = json.loads(message.data or b"{}")
            assert message.subject == f"eventshop.{stream.lower()}.Product.{event['type']}"
            found.append({"id": int((message.headers or {})["Nats-Msg-Id"]), **event})
        await client.close()
        return found

    return asyncio.run(read())


class Relaying:
    """`relay.run` in a thread of its own, as the relay process runs it."""

    def __init__(self, config: settings.Settings) -> None:
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(relay.run(config, sink_for(config), self._stop),)
        )

    def __enter__(self) -> Relaying:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self._loop.close()


def state(sink_name: str) -> dict[str, Any]:
    found = {row["sink"]: row for row in relay.positions(settings.load().database_url)}
    return found.get(sink_name, {"position": 0, "error": None})


def position(sink_name: str) -> int:
    return int(state(sink_name)["position"])


def use_sink(monkeypatch: pytest.MonkeyPatch, url: str, stream: str) -> settings.Settings:
    """The relay's settings for a sink; on NATS each stream has subjects of its own (two streams of
    one server may not share a subject)."""
    monkeypatch.setenv("EVENTSHOP_PUBLISH", url)
    monkeypatch.setenv("EVENTSHOP_PUBLISH_STREAM", stream)
    monkeypatch.setenv("EVENTSHOP_PUBLISH_SUBJECT", f"eventshop.{stream.lower()}")
    return settings.load()


def assert_each_once_in_order(found: list[dict[str, Any]], head: int) -> None:
    assert [m["id"] for m in found] == list(range(1, head + 1))
    assert [int(m["position"]) for m in found] == list(range(1, head + 1))
    with db.reading(settings.load().database_url) as connection:
        stored = eventstore.read_all(connection, 0, head)
    assert [(m["streamId"], m["version"], m["type"]) for m in found] == [
        (e.stream_id, e.version, e.type) for e in stored
    ]


@pytest.fixture(params=["nats", "redis"])
def sink(request: pytest.FixtureRequest, nats_url: str, broker: str) -> Iterator[Sink]:
    stream = (
        f"RELAY{uuid.uuid4().hex[:8].upper()}" if request.param == "nats" else f"relay:{uuid.uuid4().hex}"
    )
    yield (nats_url if request.param == "nats" else broker), stream


def test_every_event_reaches_the_sink_once_in_global_order(
    database: str, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = use_sink(monkeypatch, *sink)
    head = write(20)
    with Relaying(config):
        wait_for(lambda: position(sink_for(config).name) == head, 30, "the relay to reach the head")
        more = write(5)
        wait_for(lambda: position(sink_for(config).name) == more, 30, "the relay to publish what came after")
    found = held(sink)
    assert_each_once_in_order(found, more)
    assert found[0]["data"]["categories"] == [] and found[0]["schemaVersion"] == 2  # as the feed shows it


def test_a_sink_outage_is_ridden_out_from_the_checkpoint(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = NatsServer(tmp_path / "nats", free_port())
    server.start()
    config = use_sink(monkeypatch, server.url, "OUTAGE")
    name = sink_for(config).name
    try:
        first = write(5)
        with Relaying(config):
            wait_for(lambda: position(name) == first, 30, "the first events to be published")
            server.kill()
            after = write(5)
            wait_for(lambda: state(name)["error"], 30, "the outage to show")
            assert state(name)["position"] == first
            server.start()
            wait_for(lambda: position(name) == after, 60, "the relay to catch up once NATS is back")
        assert state(name)["error"] is None
        assert_each_once_in_order(held((server.url, "OUTAGE")), after)
    finally:
        server.kill()


def test_a_relay_that_died_after_publishing_goes_on_after_what_the_sink_holds(database: str) -> None:
    url = settings.load().database_url
    head = write(3)
    assert relay.checkpoint(url, "test:sink") == 0
    assert relay._resume_from(url, "test:sink", head - 2) == head - 2  # the sink holds more: go on after it
    assert relay.checkpoint(url, "test:sink") == head - 2
    assert relay._resume_from(url, "test:sink", None) == head - 2  # an emptied sink: the checkpoint
    with pytest.raises(SinkError, match="past this store's head"):  # another store's stream
        relay._resume_from(url, "test:sink", head + 50)


def test_replay_publishes_a_range_again_up_to_the_checkpoint(
    database: str, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = f"REPLAY{uuid.uuid4().hex[:8].upper()}"
    config = use_sink(monkeypatch, nats_url, stream)
    head = write(4)
    with Relaying(config):
        wait_for(lambda: position(f"nats:{stream}") == head, 30, "the relay to publish")
    asyncio.run(drop_stream(nats_url, stream))  # the sink lost what it held
    write(1)  # after the checkpoint: the relay's to publish, not the replay's
    replayed = CliRunner().invoke(app, ["relay", "replay", "--from", "3"])
    assert replayed.exit_code == 0 and f"{head - 2} events published again" in replayed.output, (
        replayed.output
    )
    assert [m["id"] for m in held((nats_url, stream))] == list(range(3, head + 1))
    assert relay.checkpoint(settings.load().database_url, f"nats:{stream}") == head  # the checkpoint stays


async def drop_stream(url: str, stream: str) -> None:
    client = await nats.connect(url)
    await client.jetstream().delete_stream(stream)
    await client.close()
