"""What one request may ask for, checked before it runs (the README's Request limits).

Two passes, each bounded by the limits themselves. Before parsing, the query text is measured
from its tokens (`api.security.scan`: tokens, depth, aliases, directives, root and mutation fields, fields
with fragments expanded), so a document of any size is refused in milliseconds, and what gets
parsed is small. After parsing, a walk of the operation that will run, fragments expanded, checks
its real depth, root and mutation fields, the fields it selects, its `first:` arguments, its cost
(fields counted once per item of every page they sit in) and, in production, introspection. The
variables' size is checked apart, and the response's after it ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tartiflette.language.ast import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, IntValueNode

from api.graphql import engine as engines
from api.graphql.errors import Refused
from api.security import scan
from store.settings import Limits, Settings

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTROSPECTION = frozenset({"__schema", "__type"})
COST_SETTING = "EVENTSHOP_MAX_COST"
MAX_VARIABLE_DEFINITIONS = 100  # per operation: Tartiflette's validation takes time in their square


def over(what: str, most: int, variable: str) -> Refused:
    """The refusal of a request past a limit: what is too much, the most allowed, and its setting."""
    return Refused(400, f"{what}: at most {most} ({variable})", TOO_COMPLEX)


def check_text(query: str, limits: Limits) -> None:
    """Refuse a query text that holds a NUL (the parser would stop there) or passes a limit that
    its tokens show (`api.security.scan`)."""
    if "\x00" in query:
        raise Refused(400, "the query holds a NUL character, which GraphQL does not allow", "BAD_REQUEST")
    counts = scan.measure(query, limits.max_tokens, limits.max_fields + 1)
    checks = (
        (counts.tokens, limits.max_tokens, "too many tokens in the query", "EVENTSHOP_MAX_TOKENS"),
        (counts.depth, limits.max_depth, "fields nested too deep", "EVENTSHOP_MAX_DEPTH"),
        (counts.aliases, limits.max_aliases, "too many aliases", "EVENTSHOP_MAX_ALIASES"),
        (counts.directives, limits.max_directives, "too many directives", "EVENTSHOP_MAX_DIRECTIVES"),
        (counts.root_fields, limits.max_root_fields, "too many root fields", "EVENTSHOP_MAX_ROOT_FIELDS"),
        (
            counts.mutations,
            limits.max_mutations,
            "too many mutations in one request",
            "EVENTSHOP_MAX_MUTATIONS",
        ),
        (max(counts.fields, counts.expanded), limits.max_fields, "too many fields", "EVENTSHOP_MAX_FIELDS"),
        (counts.variables, MAX_VARIABLE_DEFINITIONS, "too many variables defined", "a fixed bound"),
    )
    for found, most, what, variable in checks:
        if found > most:
            raise over(what, most, variable)


def _check_depth(depth: int, limits: Limits) -> None:
    if depth > limits.max_depth:
        raise over("fields nested too deep", limits.max_depth, "EVENTSHOP_MAX_DEPTH")


def _check_root_fields(count: int, mutation: bool, limits: Limits) -> None:
    if count > limits.max_root_fields:
        raise over("too many root fields", limits.max_root_fields, "EVENTSHOP_MAX_ROOT_FIELDS")
    if mutation and count > limits.max_mutations:
        raise over("too many mutations in one request", limits.max_mutations, "EVENTSHOP_MAX_MUTATIONS")


def check_variables(variables: dict[str, Any] | None, limits: Limits) -> None:
    """Refuse variables whose JSON takes more than `max_variables` bytes."""
    if variables and len(json.dumps(variables, ensure_ascii=False).encode()) > limits.max_variables:
        message = f"the variables take more than {limits.max_variables} bytes (EVENTSHOP_MAX_VARIABLES)"
        raise Refused(400, message, "VARIABLES_TOO_LARGE")


def document_check(
    config: Settings, name: str | None, variables: dict[str, Any] | None
) -> Callable[[Any], None]:
    """The check `api.engine.parse` runs on a parsed document before it may run or be cached."""

    def check(document: Any) -> None:
        check_operation(document, name, variables, config.limits, config.auth.production)

    return check


def check_operation(
    document: Any, name: str | None, variables: dict[str, Any] | None, limits: Limits, production: bool
) -> None:
    """Walk the operation `name` selects, fragments expanded, and refuse it past a limit; in
    production, refuse introspection (`__typename` stays allowed)."""
    operation = engines.operation(document, name)
    if operation is None:
        return
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    values = _variable_values(operation, variables or {})
    mutation = str(operation.operation_type) == "mutation"
    selected = root_fields = cost = 0
    pages = engines.page_defaults()
    stack: list[tuple[Any, int, frozenset[str], int]] = [(operation.selection_set, 0, frozenset(), 1)]
    while stack:
        selection_set, depth, spread, items = stack.pop()
        for selection in selection_set.selections:
            selected += 1
            if selected > limits.max_fields:
                raise over("too many fields, fragments expanded", limits.max_fields, "EVENTSHOP_MAX_FIELDS")
            if isinstance(selection, FieldNode):
                cost += items
                if cost > limits.max_cost:
                    raise over(
                        "the query would resolve too many fields", limits.max_cost, "EVENTSHOP_MAX_COST"
                    )
                _check_depth(depth + 1, limits)
                if depth == 0:
                    root_fields += 1
                    _check_root_fields(root_fields, mutation, limits)
                if production and selection.name.value in INTROSPECTION:
                    message = "introspection is disabled in production (EVENTSHOP_ENV=production)"
                    raise Refused(400, message, "INTROSPECTION_DISABLED")
                size = _page_size(selection, values, pages, limits)
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, depth + 1, spread, items * size))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None and fragment.name.value not in spread:
                    stack.append((fragment.selection_set, depth, spread | {fragment.name.value}, items))
            else:
                stack.append((selection.selection_set, depth, spread, items))


def _variable_values(operation: Any, variables: dict[str, Any]) -> dict[str, Any]:
    """The values the operation's variables take: those given, else their literal defaults."""
    values = dict(variables)
    for definition in operation.variable_definitions or []:
        default = definition.default_value
        if definition.variable.name.value not in values and isinstance(default, IntValueNode):
            values[definition.variable.name.value] = int(default.value)
    return values


def _page_size(field: Any, values: dict[str, Any], pages: dict[str, int | None], limits: Limits) -> int:
    """How many items the field returns at most: its `first` or `last` (refused past
    `max_first`), else its default page size, else all (`max_first`); 1 for a field that is no page."""
    size: int | None = None
    for argument in field.arguments or []:
        if argument.name.value not in engines.PAGE_ARGUMENTS:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            given: Any = int(value.value)
        else:
            given = values.get(value.name.value) if hasattr(value, "name") else None
        if isinstance(given, int) and not isinstance(given, bool):
            if given > limits.max_first:
                message = f"{argument.name.value} must be at most {limits.max_first} (EVENTSHOP_MAX_FIRST)"
                raise Refused(400, message, "BAD_USER_INPUT")
            size = max(size or 0, given, 0)
    if size is not None:
        return size
    name = field.name.value
    if name not in pages:
        return 1
    return pages[name] or limits.max_first


def response_text(result: dict[str, Any], limits: Limits) -> str:
    """The result as JSON, or a refusal when it takes more than `max_response` bytes."""
    text = json.dumps(result)
    if len(text) > limits.max_response:
        message = (
            f"the response would take more than {limits.max_response} bytes (EVENTSHOP_MAX_RESPONSE):"
            " ask for fewer fields or smaller pages"
        )
        raise Refused(400, message, "RESPONSE_TOO_LARGE")
    return text
