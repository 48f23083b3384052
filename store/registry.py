"""The one place that registers every aggregate, its commands and its events.

Adding an aggregate touches `domain/`, the tuple below and the SDL. A second aggregate with the
same stream type, or a command, event (type and version) or upcaster (type and version it reads)
that another already registered, stops the import with `RegistryError` naming both. Projections
register in `workers.projections`.

Events evolve through upcasters: a stored row keeps the shape it was written in, and `upcast`
brings it to its type's newest version on every read (`store.eventstore.recorded`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain import customer, order, product, stock
from domain.decider import AnyDecider, Upcaster
from store.codec import from_json, to_json
from store.records import NewEvent, RecordedEvent


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
) -> tuple[
    dict[str, AnyDecider], dict[str, Any], dict[tuple[str, int], Any], dict[tuple[str, int], Upcaster]
]:
    """The deciders by stream type, (command class, decider) by command name, event classes by
    (type, version) and upcasters by (type, version read); raises `RegistryError` on any name
    claimed twice."""
    listed = list(deciders)
    by_type = _unique(((d.stream_type, d) for d in listed), "the stream type")
    commands = _unique(((c.__name__, (c, d)) for d in listed for c in d.commands), "the command")
    events = _unique((((e.TYPE, e.VERSION), e) for d in listed for e in d.events), "the event")
    upcasters = _unique(((key, u) for d in listed for key, u in d.upcasters.items()), "the upcaster of")
    return by_type, commands, events, upcasters


DECIDERS, COMMANDS, EVENTS, UPCASTERS = build(
    [product.decider, stock.decider, order.decider, customer.decider]
)
NEWEST = {event_type: max(v for t, v in EVENTS if t == event_type) for event_type, _ in EVENTS}


def upcast(event_type: str, version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The version and data of a stored event brought to its type's newest shape (unchanged when
    already newest, or of a type no aggregate registers)."""
    while (event_type, version) in UPCASTERS:
        data = UPCASTERS[(event_type, version)](data)
        version += 1
    return version, data


def unreadable(event_type: str, version: int) -> str | None:
    """Why a stored event of this type and version cannot be read as a registered event, or None."""
    reached = version
    while (event_type, reached) in UPCASTERS:
        reached += 1
    if (event_type, reached) not in EVENTS:
        return f"{event_type} v{version} upcasts to v{reached}, which no aggregate registers"
    if reached != NEWEST[event_type]:
        return f"{event_type} v{version} upcasts to v{reached}, not to the newest v{NEWEST[event_type]}"
    return None


def broken_chains() -> list[str]:
    """Each upcaster chain that does not end at its type's newest registered version."""
    return [p for key in sorted(UPCASTERS) if (p := unreadable(*key)) is not None]


def personal(cls: Any) -> tuple[str, ...]:
    """The fields of a command or event class that hold personal data (`domain.customer`)."""
    fields: tuple[str, ...] = getattr(cls, "PERSONAL", ())
    return fields


def personal_of_event(event_type: str) -> tuple[str, ...]:
    """The personal fields of an event type (its newest version), none for an unknown type."""
    version = NEWEST.get(event_type)
    return () if version is None else personal(EVENTS[(event_type, version)])


def decode_event(recorded: RecordedEvent) -> Any:
    """The domain event a stored event holds, in its type's newest shape."""
    version, data = upcast(recorded.type, recorded.schema_version, recorded.data)
    return from_json(EVENTS[(recorded.type, version)], data)


def encode_event(event: Any, metadata: dict[str, Any]) -> NewEvent:
    return NewEvent(type(event).TYPE, type(event).VERSION, to_json(event), metadata)


def decider_of(command: Any) -> AnyDecider:
    """The decider of the aggregate that handles `command`."""
    decider: AnyDecider = COMMANDS[type(command).__name__][1]
    return decider


def aggregate_of(command_type: str) -> str:
    """The stream type of the aggregate that handles `command_type`."""
    return str(COMMANDS[command_type][1].stream_type)
