"""The shape every aggregate's decider has, and the rejection it raises."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

C = TypeVar("C")  # the aggregate's commands (a union of frozen dataclasses)
E = TypeVar("E")  # its events
S = TypeVar("S")  # its state


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]  # an event's stored data, one version newer


class Rejected(Exception):
    """A domain rule refused a command; the message says which, in words for a person."""


@dataclass(frozen=True)
class Decider(Generic[C, E, S]):
    """An aggregate as pure parts: `decide`, `evolve`, the initial state, stateless `problems`,
    and `id_of`, which names the aggregate a command addresses (its stream).

    `upcasters` turn the data of an event type stored at version v into version v + 1, keyed by
    (type, v): chained, they bring every older shape to the newest (the class's VERSION).
    """

    stream_type: str
    id_of: Callable[[C], str]
    initial_state: S
    decide: Callable[[C, S], Sequence[E]]
    evolve: Callable[[S, E], S]
    problems: Callable[[C], list[str]]
    commands: tuple[type, ...]
    events: tuple[Any, ...]  # event classes, each with TYPE and VERSION
    state_version: int = 1  # raise when the state's shape changes: older snapshots are then ignored
    upcasters: Mapping[tuple[str, int], Upcaster] = field(default_factory=dict)

    def fold(self, events: Sequence[E], state: S | None = None) -> S:
        """The state after `events`, starting from `state` or the initial state."""
        current = self.initial_state if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current


AnyDecider = Decider[Any, Any, Any]  # where deciders of every aggregate pass
