"""A GraphQL document measured from its tokens alone, before (and instead of) parsing it.

One pass of one regular expression: every match is one token, so the Python loop runs once per
token and stops after `max_tokens`, and blanks, comments and strings of any length cost the
regular expression engine only. Strings never fail to match (an unclosed one ends at its line's
end), so no input makes the expression backtrack.

Outside parentheses, `{` opens a selection set (one level deeper, unless it is an inline
fragment's); a name in one is a field, or an alias when `:` follows it; after `...` it names a
fragment spread, unless it is `on`. Each count is at most what the parser would find, so a document
refused on a count would have been refused after parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_IGNORED = r"(?:[ \t\n\r,\ufeff]++|#[^\n\r]*+)*+"
_STRING = r'"""(?:\\"""|[^"\\]++|\\|"(?!""))*+(?:"""|\Z)|"(?:[^"\\\n\r]++|\\[^\n\r]?)*+"?'
_TOKEN = re.compile(
    rf"{_IGNORED}(?:(?P<value>{_STRING}|-?[0-9][0-9A-Za-z.+-]*+)|(?P<name>[_A-Za-z][_0-9A-Za-z]*+)"
    r"|(?P<punctuator>\.\.\.|.)|(?P<end>\Z))",
    re.DOTALL,
)


@dataclass
class Counts:
    tokens: int = 0  # counted up to one past the bound given to `measure`
    aliases: int = 0
    directives: int = 0
    depth: int = 0  # the deepest selection set, fragments not expanded
    root_fields: int = 0  # the most fields the root of one operation selects, fragments not expanded
    mutations: int = 0  # the most fields the root of one mutation selects
    variables: int = 0  # the most variables one operation defines
    fields: int = 0  # fields and fragment spreads written in the document
    expanded: int = 0  # fields and fragment spreads of all operations, fragments expanded (capped)


def measure(query: str, max_tokens: int, cap: int) -> Counts:
    """The counts of `query`; the scan stops once it has seen more than `max_tokens` tokens, and
    `expanded` stops growing past `cap`."""
    scanner = _Scanner()
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup
        if kind == "end":
            break
        scanner.counts.tokens += 1
        if scanner.counts.tokens > max_tokens:
            return scanner.counts
        token = match.group(kind or "")
        if kind == "punctuator":
            scanner.punctuator(token)
        elif kind == "name":
            scanner.name(token)
        scanner.previous = (scanner.previous[1], token if kind != "value" else "")
    scanner.counts.expanded = scanner.expanded(cap)
    return scanner.counts


@dataclass
class _Definition:
    kind: str  # "query", "mutation", "subscription" or "fragment"
    own: int = 0  # fields and fragment spreads written in it
    spreads: list[str] = field(default_factory=list)  # the fragments it spreads, repeats included
    root_fields: int = 0
    variables: int = 0


class _Scanner:
    def __init__(self) -> None:
        self.counts = Counts()
        self.parens = self.depth = 0
        self.brackets: list[str] = []  # per open `{` or `[`: a level, an inline fragment or a value
        self.inline = False  # an inline fragment's `{` comes next
        self.current: _Definition | None = None
        self.operations: list[_Definition] = []
        self.fragments: dict[str, _Definition] = {}
        self.previous = ("", "")  # the two tokens before this one

    def name(self, name: str) -> None:
        if self.depth == 0 and not self.parens:
            self._definition_name(name)
            return
        if self.depth == 0 or self.parens or self.previous[1] == "@" or self.previous == ("...", "on"):
            return
        definition = self._definition()
        if self.previous[1] == "...":
            self.inline = name == "on"
            if name != "on":
                definition.spreads.append(name)
                self._selected(definition, root=False)
            return
        self._selected(definition, root=self.depth == 1)

    def _definition_name(self, name: str) -> None:
        if self.current is None:
            self._start(name)
        elif self.current.kind == "fragment" and self.previous[1] == "fragment":
            self.fragments.setdefault(name, self.current)

    def _start(self, kind: str) -> None:
        self.current = _Definition(kind)
        if kind != "fragment":
            self.operations.append(self.current)

    def _definition(self) -> _Definition:
        if self.current is None:
            self._start("query")
        assert self.current is not None
        return self.current

    def _selected(self, definition: _Definition, root: bool, count: int = 1) -> None:
        definition.own += count
        self.counts.fields += count
        if root and definition.kind != "fragment":
            definition.root_fields += count
            self.counts.root_fields = max(self.counts.root_fields, definition.root_fields)
            if definition.kind == "mutation":
                self.counts.mutations = max(self.counts.mutations, definition.root_fields)

    def punctuator(self, char: str) -> None:
        if char == ":" and self.depth and not self.parens:
            self.counts.aliases += 1  # the name before it was an alias, not a field
            self._selected(self._definition(), root=self.depth == 1, count=-1)
        elif char == "@":
            self.counts.directives += 1
            self.inline = self.inline or self.previous[1] == "..."
        elif char == "$" and self.parens == 1 and self.depth == 0:
            definition = self._definition()
            definition.variables += 1
            self.counts.variables = max(self.counts.variables, definition.variables)
        elif char == "(":
            self.parens += 1
        elif char == ")":
            self.parens = max(0, self.parens - 1)
        elif char == "{" and not self.parens and (self.inline or self.previous[1] == "..."):
            self.brackets.append("inline")
            self.inline = False
        elif char == "{" and not self.parens:
            self.brackets.append("level")
            self._definition()
            self.depth += 1
            self.counts.depth = max(self.counts.depth, self.depth)
        elif char in "{[":
            self.brackets.append("value")
        elif char in "}]" and self.brackets and self.brackets.pop() == "level":
            self.depth -= 1
            if self.depth == 0:
                self.current = None

    def expanded(self, cap: int) -> int:
        """The selections of every operation with its fragments expanded, up to `cap` (a spread of
        an unknown fragment, or one that closes a cycle, counts for itself only)."""
        sizes: dict[str, int] = {}
        for start in self.fragments:
            stack, entered = [(start, False)], set()
            while stack:
                name, ready = stack.pop()
                fragment = self.fragments[name]
                if ready:
                    sizes[name] = min(cap, fragment.own + sum(sizes.get(s, 0) for s in fragment.spreads))
                    entered.discard(name)
                elif name not in sizes and name not in entered:
                    entered.add(name)
                    stack.append((name, True))
                    stack.extend((s, False) for s in set(fragment.spreads) if s in self.fragments)
        total = sum(o.own + sum(sizes.get(s, 0) for s in o.spreads) for o in self.operations)
        return min(cap, total)
