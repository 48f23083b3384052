"""Who is calling: the client's address through trusted proxies only, and its declared name."""

from __future__ import annotations

import ipaddress

import pytest

from api.security import clients

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not from a proxy: the header is ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.3", "198.51.100.1"),  # spoofed left part skipped
        ("10.0.0.2", "10.0.0.4, 10.0.0.3", "10.0.0.4"),  # only proxies: the farthest one
        ("10.0.0.2", "198.51.100.1, not-an-address", "10.0.0.2"),  # a malformed hop: its reporter
        ("10.0.0.2", None, "10.0.0.2"),
        ("::1", "2001:db8::5", "2001:db8::5"),
        (None, "198.51.100.1", ""),
    ],
)
def test_the_address_is_the_nearest_hop_no_trusted_proxy_vouches_for(
    remote: str | None, forwarded: str | None, expected: str
) -> None:
    assert clients.address(remote, forwarded, PROXIES) == expected


def test_with_no_proxy_trusted_the_header_never_counts() -> None:
    assert clients.address("10.0.0.2", "198.51.100.1", ()) == "10.0.0.2"


def test_names_are_bounded_for_logs_and_metrics() -> None:
    client = clients.identify({clients.NAME_HEADER: "shop-web\x00" + "x" * 200, clients.VERSION_HEADER: " "})
    assert client.name is not None and len(client.name) == clients.MAX_LENGTH and "\x00" not in client.name
    assert client.version is None and client.log_fields() == {"client_name": client.name}
    labels = clients.MetricLabels(most=2)
    names = [labels.label(name) for name in ("a", "b", "c", "a")]
    assert names == ["a", "b", "other", "a"]
    assert labels.label(None) == "unknown"
    assert clients.MetricLabels(missing="anonymous").label(None) == "anonymous"
