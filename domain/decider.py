"""The shape every aggregate's decider has, and the rejection it raises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

S = TypeVar("S")


class Rejected(Exception):
    """A domain rule refused a command; the message says which, in words for a person."""


@dataclass(frozen=True)
class Decider(Generic[S]):
    """An aggregate as pure parts: `decide`, `evolve`, the initial state, and stateless `problems`."""

    stream_type: str
    initial_state: S
    decide: Callable[[Any, S], Sequence[Any]]
    evolve: Callable[[S, Any], S]
    problems: Callable[[Any], list[str]]
    commands: tuple[type, ...]
    events: tuple[Any, ...]
    state_version: int = 1  # raise when the state's shape changes: older snapshots are then ignored

    def fold(self, events: Sequence[Any], state: S | None = None) -> S:
        """The state after `events`, starting from `state` or the initial state."""
        current = self.initial_state if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current
