"""The process's one Tartiflette engine, built from the SDL files beside this module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tartiflette import Engine, create_engine

from api.graphql import fragment_cycles
from api.graphql.documents import Documents
from api.graphql.errors import error_coercer
from api.graphql.parsing import parse_and_validate
from api.graphql.schema_name import SCHEMA_NAME

SDL = Path(__file__).parent / "schema"
RESOLVERS = [  # one module per aggregate, and the command mailbox's and event store's
    f"api.graphql.resolvers.{name}"
    for name in ("catalog", "stock", "orders", "customers", "commands", "events", "trace")
]
DOCUMENTS = Documents()
PAGE_ARGUMENTS = ("first", "last")
_engine: Engine | None = None
_pages: dict[str, int | None] = {}


def sdl() -> str:
    """The schema's SDL: every `*.graphql` file of `SDL`, in name order."""
    return "\n".join(path.read_text() for path in sorted(SDL.glob("*.graphql")))


async def engine() -> Engine:
    global _engine
    if _engine is None:
        fragment_cycles.install()
        _engine = await create_engine(
            sdl=sdl(),  # the files in name order (Tartiflette would read a folder in directory order)
            schema_name=SCHEMA_NAME,
            error_coercer=error_coercer,  # type: ignore[arg-type]  # Tartiflette awaits it
            modules=[
                *RESOLVERS,
                "api.live.subscriptions",
                "api.graphql.scalars",
                "api.graphql.introspection",
            ],
            query_cache_decorator=DOCUMENTS.serving,
        )
        _pages.update(_page_defaults(_engine))
    return _engine


def page_defaults() -> dict[str, int | None]:
    """Fields that return pages (they take `first` or `last`), by name, with the page size they
    default to (None: no default, so all of them); empty until the engine is built."""
    return _pages


def _page_defaults(built: Engine) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    schema: Any = built._schema
    for definition in schema.type_definitions.values():
        for field in getattr(definition, "implemented_fields", {}).values():
            for argument in field.arguments.values():
                if argument.name in PAGE_ARGUMENTS:
                    value = argument.default_value
                    default = int(value.value) if value is not None and hasattr(value, "value") else None
                    known = found.get(field.name, 0)
                    found[field.name] = None if None in (known, default) else max(known or 0, default or 0)
    return found


def operation(document: Any, name: str | None) -> Any:
    """The operation definition `name` selects, or None."""
    operations = [d for d in document.definitions if hasattr(d, "operation_type")]
    for found in operations:
        if (name is None and len(operations) == 1) or (found.name and found.name.value == name):
            return found
    return None


def operation_type(document: Any, name: str | None) -> str | None:
    """ "query", "mutation" or "subscription": the type of the operation `name` selects."""
    found = operation(document, name)
    return None if found is None else str(found.operation_type)


def root_fields(document: Any, name: str | None) -> int:
    """How many fields the selected operation's root selects (fragments on the root included)."""
    found = operation(document, name)
    definitions = document.definitions
    fragments = {d.name.value: d for d in definitions if type(d).__name__ == "FragmentDefinitionNode"}

    def count(selections: Any, seen: frozenset[str]) -> int:
        total = 0
        for selection in selections:
            kind = type(selection).__name__
            if kind == "FieldNode":
                total += 1
            elif kind == "InlineFragmentNode":
                total += count(selection.selection_set.selections, seen)
            elif kind == "FragmentSpreadNode" and selection.name.value in fragments:
                name = selection.name.value
                if name not in seen:
                    total += count(fragments[name].selection_set.selections, seen | {name})
        return total

    return 0 if found is None else count(found.selection_set.selections, frozenset())


def parse(
    engine: Engine, query: str, check: Callable[[Any], None] | None = None
) -> tuple[Any, list[Any] | None]:
    """The parsed document and its parse or validation errors. A valid document is run through
    `check` (which raises to refuse it) and, once it passed, kept in `DOCUMENTS` for the engine."""
    document = DOCUMENTS.get(query)
    if document is None:
        document, errors = parse_and_validate(query, engine._schema)
        if errors:
            return None, errors
        if check is not None:
            check(document)
            DOCUMENTS.put(query, document)
    elif check is not None:
        check(document)
    return document, None
