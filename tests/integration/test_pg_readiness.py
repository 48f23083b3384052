"""`/readyz` and `/healthz` follow PostgreSQL going away and coming back (through a TCP proxy the
test cuts and restores, as a network partition or a restart would)."""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.error
import urllib.request
from contextlib import suppress

from sqlalchemy.engine import make_url

from store import db, settings
from tests.conftest import free_port
from tests.e2e.client import wait_for
from tests.served import served


class Proxy:
    """Forwards 127.0.0.1:port to a target until `cut`, which also drops every open connection."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=True)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        for sock in [self.listener, *self.sockets]:
            with suppress(OSError):
                assert sock is not None
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                assert sock is not None
                sock.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def status(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_readyz_follows_the_database_down_and_back_up(database: str, broker: str) -> None:
    real = make_url(db.normalise_url(database))
    proxy = Proxy(free_port(), (real.host or "127.0.0.1", real.port or 5432))
    proxy.start()
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    with served(settings.load({**os.environ, "DATABASE_URL": proxied, "BROKER_URL": broker})) as url:
        base = url.removesuffix("/graphql")
        assert status(base + "/readyz")[0] == 200
        proxy.cut()
        code, body = status(base + "/readyz")
        assert (code, body["database"]) == (503, "unreachable")
        assert status(base + "/healthz")[0] == 503
        proxy.start()
        wait_for(lambda: status(base + "/readyz")[0] == 200, 30, "readiness to come back")
    proxy.cut()
