"""Tartiflette's rule "fragment spreads must not form cycles" (spec 5.5.2.2), replaced.

Tartiflette's own rule takes a fragment spread twice (or two spreads reaching one fragment) for a
cycle, and misses cycles through nested fields. This one follows every spread, however nested,
without recursion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tartiflette.language.ast import FragmentSpreadNode
from tartiflette.language.validators.query import RULE_SET
from tartiflette.language.validators.query.fragment_spreads_must_not_form_cycles import (
    FragmentSpreadsMustNotFormCycles,
)
from tartiflette.utils.errors import graphql_error_from_nodes


class FragmentCycles(FragmentSpreadsMustNotFormCycles):
    def validate(self, fragments: list[Any], **_: Any) -> list[Any]:
        spreads = {fragment.name.value: set(_spread_names(fragment.selection_set)) for fragment in fragments}
        cycle = find_cycle(spreads)
        if cycle is None:
            return []
        nodes = [fragment for fragment in fragments if fragment.name.value in cycle]
        message = f"Fragment < {cycle[0]} > spreads itself: {' -> '.join(cycle)}"
        error = graphql_error_from_nodes(message=message, path=None, nodes=nodes, extensions=self._extensions)
        return [error]


def install() -> None:
    """Make Tartiflette's validation use this rule (for every engine of the process)."""
    RULE_SET[FragmentCycles.RULE_NAME] = FragmentCycles(abort=True)


def find_cycle(spreads: dict[str, set[str]]) -> list[str] | None:
    """A cycle of fragment names (its first name repeated at its end), or None: a depth-first
    search that keeps its own stack."""
    done: set[str] = set()
    for start in spreads:
        if start in done:
            continue
        path, on_path, pending = [start], {start}, [iter(sorted(spreads[start]))]
        while pending:
            following = next((name for name in pending[-1] if name in spreads and name not in done), None)
            if following is None:
                on_path.discard(path[-1])
                done.add(path.pop())
                pending.pop()
            elif following in on_path:
                return [*path[path.index(following) :], following]
            else:
                path.append(following)
                on_path.add(following)
                pending.append(iter(sorted(spreads[following])))
    return None


def _spread_names(selection_set: Any) -> Iterator[str]:
    """The names of the fragments spread anywhere in `selection_set`."""
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif selection.selection_set is not None:
                stack.append(selection.selection_set)
