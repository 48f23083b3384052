"""The sinks the relay publishes to, chosen by EVENTSHOP_PUBLISH's scheme."""

from __future__ import annotations

from store.settings import Settings
from workers.sinks.base import Sink
from workers.sinks.jetstream import JetStreamSink
from workers.sinks.redis_streams import RedisStreamSink


def sink_for(config: Settings) -> Sink:
    url = config.publish
    if url is None:
        raise ValueError("EVENTSHOP_PUBLISH is not set: there is no sink")
    if url.startswith("nats://"):
        return JetStreamSink(url, config.publish_stream or "EVENTSHOP", config.publish_subject)
    return RedisStreamSink(url, config.publish_stream or "eventshop:events", config.publish_maxlen)
