"""Parsing a document with Tartiflette's libgraphqlparser, without leaking memory.

Tartiflette 1.4.1 turns the parser's syntax tree into JSON with `graphql_ast_to_json`, whose string
the caller must `free()`, and never frees it: every parse leaked that JSON (a few KiB), so an API
serving ever new documents grew without bound. This parses the same way and frees it. It reaches
into the parser module's own names, so it is tied to the pinned Tartiflette release.
"""

from __future__ import annotations

import ctypes
from typing import Any

from tartiflette.language.parsers.libgraphqlparser.parser import _FFI, _LIB, _parse_context_manager
from tartiflette.language.parsers.libgraphqlparser.transformers import document_from_ast_json
from tartiflette.types.exceptions.tartiflette import TartifletteError
from tartiflette.utils.errors import to_graphql_error

_free = ctypes.CDLL(None).free
_free.argtypes, _free.restype = [ctypes.c_void_p], None


def syntax_tree_json(query: str | bytes) -> bytes:
    """libgraphqlparser's syntax tree of `query`, as JSON (its string freed once copied)."""
    with _parse_context_manager(query) as parsed:
        text = _LIB.graphql_ast_to_json(parsed)
        try:
            return bytes(_FFI.string(text))
        finally:
            _free(int(_FFI.cast("uintptr_t", text)))


def parse_and_validate(query: str | bytes, schema: Any) -> tuple[Any, list[Any] | None]:
    """The document and None, or None and its syntax or validation errors: what Tartiflette's
    `parse_and_validate_query` answers."""
    document: Any
    try:
        document = document_from_ast_json(schema.json_loader(syntax_tree_json(query)), query, schema)
    except TartifletteError as error:
        return None, [error]
    except Exception as error:
        return None, [to_graphql_error(error, message="Server encountered an error.")]
    if document.validators.errors:
        return None, document.validators.errors
    return document, None
