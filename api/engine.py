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
            modules=["api.resolvers", "api.scalars"],
        )
    return _engine


def parse(engine: Engine, query: str) -> tuple[Any, list[Any] | None]:
    """The parsed document and the parse or validation errors (cached by Tartiflette)."""
    document, errors = engine._cached_parse_and_validate_query(query, engine._schema)  # type: ignore[misc]
    return document, errors
