"""Parsing documents: the same syntax tree as Tartiflette's parser, without its leak."""

from __future__ import annotations

import psutil
from tartiflette.language.parsers.libgraphqlparser.parser import _parse_to_json_ast

from api.graphql.parsing import syntax_tree_json


def document(n: int) -> str:
    page = f"products(first: {n % 20 + 1}) {{ totalCount edges {{ node {{ id sku }} }} }}"
    return f"query Q{n} {{ a{n}: {page} }}"


def test_the_syntax_tree_is_tartiflettes() -> None:
    assert syntax_tree_json(document(7)) == _parse_to_json_ast(document(7))


def test_parsing_twenty_thousand_distinct_documents_keeps_memory_flat() -> None:
    process = psutil.Process()
    for n in range(1_000):
        syntax_tree_json(document(n))
    before = process.memory_info().rss
    for n in range(1_000, 21_000):
        syntax_tree_json(document(n))
    grown = process.memory_info().rss - before
    assert grown < 8 * 2**20, f"grew {grown / 2**20:.1f} MiB"  # Tartiflette's own leaks ~55 MiB here
