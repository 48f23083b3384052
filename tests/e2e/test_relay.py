"""The relay under `eventshop up`, to real NATS JetStream and to Redis Streams: 8 clients write
while the relay is killed with SIGKILL once; every event of the feed ends in the stream exactly
once by position, in global order (so in order per stream), and `eventshop status` shows it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats
import psutil
import pytest
import redis

from eventshop import topology
from store import db, eventstore
from tests.conftest import free_port
from tests.e2e.client import running_system, wait_for
from tests.faults import checks
from workers import relay

CLIENTS, EACH = 8, 25


def relay_process(up_pid: int) -> psutil.Process | None:
    found = [p for p in psutil.Process(up_pid).children() if topology.role(p.cmdline()) == "relay"]
    return found[0] if found else None


def published(database: str, sink: str) -> int:
    return next((int(r["position"]) for r in relay.positions(database) if r["sink"] == sink), 0)


def stream_messages(url: str, stream: str) -> list[dict[str, Any]]:
    """Each message the sink holds, in its order, with its id (`msgId`: the position it was sent as)."""
    if url.startswith("redis"):
        with redis.Redis.from_url(url) as client:
            entries = client.xrange(stream)
        return [{"msgId": i.decode().split("-")[0], **json.loads(f[b"event"])} for i, f in entries]

    async def read() -> list[dict[str, Any]]:
        client = await nats.connect(url)
        js = client.jetstream()
        found = []
        for seq in range(1, (await js.stream_info(stream)).state.last_seq + 1):
            message = await js.get_msg(stream, seq)
            found.append(
                {"msgId": (message.headers or {})["Nats-Msg-Id"], **json.loads(message.data or b"{}")}
            )
        await client.close()
        return found

    return asyncio.run(read())


@pytest.mark.parametrize("kind", ["nats", "redis"])
def test_every_event_is_published_once_in_order_though_the_relay_is_killed(
    kind: str, make_database: Callable[[], str], make_broker: Callable[[], str], nats_url: str, tmp_path: Path
) -> None:
    database, stream, broker = make_database(), f"E2E{uuid.uuid4().hex[:8].upper()}", make_broker()
    sink_url = nats_url if kind == "nats" else broker
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "BROKER_URL": broker,
        "EVENTSHOP_PUBLISH": sink_url,
        "EVENTSHOP_PUBLISH_STREAM": stream,
        "EVENTSHOP_PUBLISH_SUBJECT": f"eventshop.{stream.lower()}",
    }
    sink = f"{kind}:{stream}"
    with running_system(env, free_port(), tmp_path / "data", tmp_path / "up.log") as api:
        assert api.pid is not None
        first = wait_for(lambda: relay_process(api.pid or 0), 30, "the relay to start")
        written: list[str] = []

        def client() -> None:
            for _ in range(EACH):
                written.append(checks.create(api, f"REL-{uuid.uuid4().hex[:10].upper()}")["commandId"])

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(written) >= CLIENTS * EACH // 3, 60, "a third of the writes")
        first.kill()
        for thread in threads:
            thread.join(120)
        assert len(written) == CLIENTS * EACH
        for command_id in written:
            assert api.settled(command_id)["status"] == "SUCCEEDED"
        with db.reading(database) as connection:
            head = eventstore.head(connection)
        wait_for(lambda: published(database, sink) == head, 60, "the relay to publish every event")
        restarted = relay_process(api.pid)
        assert restarted is not None and restarted.pid != first.pid
        status = subprocess.run(
            [sys.executable, "-m", "eventshop", "status", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sink in status.stdout and "publishing" in status.stdout, status.stdout
    found = stream_messages(sink_url, stream)
    assert [int(m["msgId"]) for m in found] == list(range(1, head + 1))  # each once, in global order
    with db.reading(database) as connection:
        stored = eventstore.read_all(connection, 0, head)
    assert [(m["streamId"], m["version"], m["type"]) for m in found] == [
        (e.stream_id, e.version, e.type) for e in stored
    ]
