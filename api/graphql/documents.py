"""The parsed-document cache, bounded by size.

Tartiflette's own cache kept the last 512 distinct queries it parsed, whatever their size (a parsed
document takes about 60 bytes of memory per character of its text) and whether or not they were
refused. This one holds only documents that passed the request limits, none of more than `LARGEST`
characters, and drops the least recently used ones to keep the total text under `CAPACITY`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from api.graphql.parsing import parse_and_validate

CAPACITY = 256 * 1024  # characters of query text, all entries together (some 15 MB parsed)
LARGEST = 16 * 1024  # characters: a longer query is parsed again each time

Parse = Callable[[str, Any], tuple[Any, Any]]


class Documents:
    def __init__(self, capacity: int = CAPACITY, largest: int = LARGEST) -> None:
        self.capacity, self.largest = capacity, largest
        self.size = 0  # characters of the queries held
        self._entries: OrderedDict[str, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> Any | None:
        document = self._entries.get(query)
        if document is not None:
            self._entries.move_to_end(query)
        return document

    def put(self, query: str, document: Any) -> None:
        if len(query) > self.largest or query in self._entries:
            return
        self._entries[query] = document
        self.size += len(query)
        while self.size > self.capacity:
            oldest, _ = self._entries.popitem(last=False)
            self.size -= len(oldest)

    def serving(self, _tartiflettes: Parse) -> Parse:
        """Tartiflette's `query_cache_decorator`: answer from the cache, else parse (with
        `api.graphql.parsing`, which does not leak, instead of Tartiflette's own) and keep nothing."""

        def cached(query: str, schema: Any) -> tuple[Any, Any]:
            document = self.get(query)
            return (document, None) if document is not None else parse_and_validate(query, schema)

        return cached
