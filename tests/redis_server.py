"""A Redis server of a test's own: the embedded broker's `redis-server` on a free local port."""

from __future__ import annotations

import subprocess
from pathlib import Path

import redis

from store.broker import server_binary
from tests import processes
from tests.e2e.client import wait_for


class RedisServer:
    def __init__(self, folder: Path, port: int) -> None:
        self.port, self.folder = port, folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [str(server_binary()), "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = processes.start(command, cwd=self.folder, stdout=subprocess.DEVNULL)
        wait_for(self._pong, 30, "redis-server to answer")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def _pong(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_connect_timeout=1) as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False
