"""Preparing a query for libgraphqlparser: nesting limit and non-ASCII `\\u` escapes."""

from __future__ import annotations

import pytest

from api.graphql.source import MAX_DEPTH, SourceError, prepare


def test_non_ascii_escapes_become_characters_and_others_stay() -> None:
    query = r'{ product(id: "\u00e9\ud83d\ude00 \u0041 \\u0080 \"") { id } }'
    assert prepare(query) == '{ product(id: "é😀 \\u0041 \\\\u0080 \\"") { id } }'


def test_block_strings_and_comments_are_left_alone() -> None:
    query = '{ a(x: """raw \\u00e9""") } # \\u00e9 {{{{'
    assert prepare(query) == query


def test_deep_nesting_is_refused() -> None:
    assert prepare("{" * MAX_DEPTH + "}" * MAX_DEPTH)
    with pytest.raises(SourceError, match="nests deeper"):
        prepare("{" * (MAX_DEPTH + 1))
    with pytest.raises(SourceError):
        prepare("{ a(x: " + "[" * 5000 + ") }")


def test_braces_inside_strings_do_not_count() -> None:
    assert prepare('{ a(x: "' + "{" * 500 + '") }')


def test_a_lone_surrogate_escape_is_refused() -> None:
    with pytest.raises(SourceError, match="surrogate"):
        prepare(r'{ a(x: "\ud800") }')
