"""The one place that registers every aggregate, its commands and its events.

Adding an aggregate touches `domain/`, this list and the SDL. Projections register in
`workers.projections`.
"""

from __future__ import annotations

from typing import Any

from domain import product
from domain.decider import Decider
from store.codec import from_json, to_json
from store.eventstore import NewEvent, RecordedEvent

DECIDERS: dict[str, Decider[Any]] = {decider.stream_type: decider for decider in (product.decider,)}

COMMANDS: dict[str, tuple[type, Decider[Any]]] = {
    command.__name__: (command, decider) for decider in DECIDERS.values() for command in decider.commands
}

EVENTS: dict[tuple[str, int], Any] = {
    (event.TYPE, event.VERSION): event for decider in DECIDERS.values() for event in decider.events
}


def decode_event(recorded: RecordedEvent) -> Any:
    """The domain event a stored event holds."""
    return from_json(EVENTS[(recorded.type, recorded.schema_version)], recorded.data)


def encode_event(event: Any, metadata: dict[str, Any]) -> NewEvent:
    return NewEvent(type(event).TYPE, type(event).VERSION, to_json(event), metadata)


def aggregate_of(command_type: str) -> str:
    """The stream type of the aggregate that handles `command_type`."""
    return COMMANDS[command_type][1].stream_type
