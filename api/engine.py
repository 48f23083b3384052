"""The process's one Tartiflette engine, built from the SDL files beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tartiflette import Engine, create_engine

from api.errors import error_coercer
from api.schema_name import SCHEMA_NAME

SDL = Path(__file__).parent / "schema"
_engine: Engine | None = None


async def engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = await create_engine(
            sdl=str(SDL),
            schema_name=SCHEMA_NAME,
            error_coercer=error_coercer,  # type: ignore[arg-type]  # Tartiflette awaits it
            modules=["api.resolvers", "api.subscriptions", "api.scalars"],
        )
    return _engine


def operation_type(document: Any, name: str | None) -> str | None:
    """ "query", "mutation" or "subscription": the type of the operation `name` selects."""
    operations = [d for d in document.definitions if hasattr(d, "operation_type")]
    for operation in operations:
        if (name is None and len(operations) == 1) or (operation.name and operation.name.value == name):
            return str(operation.operation_type)
    return None


def parse(engine: Engine, query: str) -> tuple[Any, list[Any] | None]:
    """The parsed document and the parse or validation errors (cached by Tartiflette)."""
    document, errors = engine._cached_parse_and_validate_query(query, engine._schema)  # type: ignore[misc]
    return document, errors
