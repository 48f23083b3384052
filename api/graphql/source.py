"""Guarding the GraphQL parser: refuse runaway nesting, and spell out non-ASCII `\\u` escapes.

libgraphqlparser (under Tartiflette) fails on `\\u` escapes above U+007F and recurses once per
nesting level, so a query is checked and rewritten here before it reaches the parser.
"""

from __future__ import annotations

import re

MAX_DEPTH = 64
HEX = frozenset("0123456789abcdefABCDEF")
PLAIN = re.compile(r'[^#"{}\[\]()]+')  # a run that needs no attention, copied in one piece
STRING_PLAIN = re.compile(r'(?:[^"\n\\]++|\\[^u\n]|\\u00[0-7][0-9a-fA-F])++')  # but non-ASCII \u escapes


class SourceError(ValueError):
    """The query cannot be parsed safely; the message says why, for the client."""


def prepare(query: str) -> str:
    """`query` with non-ASCII `\\u` escapes in strings replaced by their characters."""
    out: list[str] = []
    depth, i, n = 0, 0, len(query)
    while i < n:
        char = query[i]
        if char == "#":
            end = query.find("\n", i)
            end = n if end < 0 else end
            out.append(query[i:end])
            i = end
        elif query.startswith('"""', i):
            end = _block_string_end(query, i + 3)
            out.append(query[i:end])
            i = end
        elif char == '"':
            i = _string(query, i + 1, out)
        else:
            if char in "{[(":
                depth += 1
                if depth > MAX_DEPTH:
                    raise SourceError(f"the query nests deeper than {MAX_DEPTH} levels")
            elif char in "}])":
                depth -= 1
            else:
                plain = PLAIN.match(query, i)
                char = plain.group() if plain else char
            out.append(char)
            i += len(char)
    return "".join(out)


def _block_string_end(query: str, i: int) -> int:
    while True:
        end = query.find('"""', i)
        if end < 0:
            return len(query)
        if query[end - 1] != "\\":
            return end + 3
        i = end + 3


def _string(query: str, i: int, out: list[str]) -> int:
    """Copy a string literal that starts after its opening quote; returns the index after it."""
    out.append('"')
    n = len(query)
    while i < n:
        plain = STRING_PLAIN.match(query, i)
        if plain:
            out.append(plain.group())
            i = plain.end()
            continue
        char = query[i]
        if char == '"' or char == "\n":
            out.append(char)
            return i + 1
        if char == "\\" and query.startswith("u", i + 1):
            code = _hex(query, i + 2)
            if code is not None and code >= 0x80:
                if 0xD800 <= code <= 0xDBFF and query.startswith("\\u", i + 6):
                    low = _hex(query, i + 8)
                    if low is not None and 0xDC00 <= low <= 0xDFFF:
                        out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                        i += 12
                        continue
                if 0xD800 <= code <= 0xDFFF:
                    raise SourceError("a string holds a \\u escape of a lone surrogate")
                out.append(chr(code))
                i += 6
                continue
        out.append(query[i : i + 2])  # any other escape, or a backslash before a line break
        i += 2
    return i


def _hex(query: str, i: int) -> int | None:
    digits = query[i : i + 4]
    return int(digits, 16) if len(digits) == 4 and set(digits) <= HEX else None
