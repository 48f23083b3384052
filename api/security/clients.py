"""Who is calling, as far as a request tells: the client's address (through the proxies
`EVENTSHOP_TRUSTED_PROXIES` names, and no others) and the name and version a GraphQL client gives
itself (Apollo Client's `clientAwareness` headers), bounded for logs and metrics."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from store.settings import Network

NAME_HEADER = "apollographql-client-name"
VERSION_HEADER = "apollographql-client-version"
MAX_LENGTH = 64  # characters of a name or version kept for a log line
KNOWN_NAMES = 50  # distinct client names one process labels its metrics with; the rest are "other"
PRINTABLE = frozenset(map(chr, range(0x20, 0x7F)))


def address(remote: str | None, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """The client's address. `X-Forwarded-For` is read only when the peer is a trusted proxy, from
    its right end (the hop that proxy saw) leftwards while each hop is itself a trusted proxy; a
    malformed hop stops the walk at the proxy that reported it."""
    current = remote or ""
    hops = [hop.strip() for hop in (forwarded_for or "").split(",")]
    while _trusted(current, proxies) and hops:
        hop = hops.pop()
        try:
            current = str(ipaddress.ip_address(hop))
        except ValueError:
            break
    return current


def _trusted(host: str, proxies: tuple[Network, ...]) -> bool:
    try:
        found = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(found in network for network in proxies)


@dataclass(frozen=True)
class Client:
    name: str | None
    version: str | None

    def log_fields(self) -> dict[str, str]:
        fields = {"client_name": self.name, "client_version": self.version}
        return {key: value for key, value in fields.items() if value is not None}


def identify(headers: Mapping[str, str]) -> Client:
    """The client's self-declared name and version, printable ASCII cut to `MAX_LENGTH`."""
    return Client(_clean(headers.get(NAME_HEADER)), _clean(headers.get(VERSION_HEADER)))


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    kept = "".join(c if c in PRINTABLE else "?" for c in value[:MAX_LENGTH]).strip()
    return kept or None


class MetricLabels:
    """A bounded label from names a client chooses (client names, operation names): the first
    `most` names a process sees are their own label, later ones are "other", and none is `missing`."""

    def __init__(self, most: int = KNOWN_NAMES, missing: str = "unknown") -> None:
        self._most, self._missing = most, missing
        self._known: set[str] = set()

    def label(self, name: str | None) -> str:
        if name is None:
            return self._missing
        if name in self._known:
            return name
        if len(self._known) < self._most:
            self._known.add(name)
            return name
        return "other"
