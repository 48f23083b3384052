"""The one place that registers every aggregate, its commands and its events.

Adding an aggregate touches `domain/`, the tuple below and the SDL. A second aggregate with the
same stream type, or a command or event (type and version) that another already registered, stops
the import with `RegistryError` naming both. Projections register in `workers.projections`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain import order, product, stock
from domain.decider import AnyDecider
from store.codec import from_json, to_json
from store.eventstore import NewEvent, RecordedEvent


class RegistryError(Exception):
    """Two aggregates claim one name."""


def _unique(pairs: Iterable[tuple[Any, Any]], what: str) -> dict[Any, Any]:
    found: dict[Any, Any] = {}
    for key, value in pairs:
        if key in found:
            raise RegistryError(f"{what} {key!r} is registered twice: by {found[key]!r} and by {value!r}")
        found[key] = value
    return found


def build(
    deciders: Iterable[AnyDecider],
) -> tuple[dict[str, AnyDecider], dict[str, Any], dict[tuple[str, int], Any]]:
    """The deciders by stream type, (command class, decider) by command name and event classes by
    (type, version); raises `RegistryError` on any name claimed twice."""
    listed = list(deciders)
    by_type = _unique(((d.stream_type, d) for d in listed), "the stream type")
    commands = _unique(((c.__name__, (c, d)) for d in listed for c in d.commands), "the command")
    events = _unique((((e.TYPE, e.VERSION), e) for d in listed for e in d.events), "the event")
    return by_type, commands, events


DECIDERS, COMMANDS, EVENTS = build([product.decider, stock.decider, order.decider])


def decode_event(recorded: RecordedEvent) -> Any:
    """The domain event a stored event holds."""
    return from_json(EVENTS[(recorded.type, recorded.schema_version)], recorded.data)


def encode_event(event: Any, metadata: dict[str, Any]) -> NewEvent:
    return NewEvent(type(event).TYPE, type(event).VERSION, to_json(event), metadata)


def decider_of(command: Any) -> AnyDecider:
    """The decider of the aggregate that handles `command`."""
    decider: AnyDecider = COMMANDS[type(command).__name__][1]
    return decider


def aggregate_of(command_type: str) -> str:
    """The stream type of the aggregate that handles `command_type`."""
    return str(COMMANDS[command_type][1].stream_type)
