"""An event as readers outside the store see it: the API's events feed, its subscription, traces,
and the relay's messages. Always the newest shape, and never a personal value."""

from __future__ import annotations

from typing import Any

from store import personal, registry
from store.actor import Actor
from store.records import RecordedEvent


def shown(event: RecordedEvent) -> dict[str, Any]:
    """The event as the `Event` type shows it (`recordedAt` a datetime, `position` a string)."""
    metadata = event.metadata or {}
    fields = registry.personal_of_event(event.type)
    return {
        "streamId": event.stream_id,
        "version": event.version,
        "type": event.type,
        "data": personal.hidden(event.data, fields) if fields else event.data,
        "recordedAt": event.recorded_at,
        "position": str(event.position),
        "schemaVersion": event.schema_version,
        "metadata": {
            "commandId": metadata.get("command_id"),
            "correlationId": metadata.get("correlation_id"),
            "causationId": metadata.get("causation_id"),
            "actor": Actor.from_metadata(metadata.get("actor")).metadata(),
        },
    }
