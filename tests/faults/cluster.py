"""Real processes for the fault tests, each in its own process group so it can be killed alone."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from pathlib import Path

from eventshop import topology
from tests import processes
from tests.conftest import free_port
from tests.e2e.client import Client, wait_for


class Cluster:
    """API, workers, projectors and beat on one database and broker, started and killed at will."""

    def __init__(self, database_url: str, broker_url: str, folder: Path, **env: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BROKER_URL": broker_url,
            "EVENTSHOP_DATA_DIR": str(folder),
            "EVENTSHOP_REDELIVER_AFTER": "1",
            **env,
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.api: Client | None = None

    def start(self, name: str, command: list[str], **env: str) -> subprocess.Popen[bytes]:
        with (self.folder / f"{name}.log").open("ab") as log:
            process = processes.start(command, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def web(self, name: str = "web") -> Client:
        """An API host (one process) on a port of its own; several may run side by side."""
        port = free_port()
        process = self.start(name, topology.web("127.0.0.1", port, workers=1))
        api = Client(f"http://127.0.0.1:{port}")
        wait_for(lambda: _answers(api, process), 60, f"the API {name}")
        self.api = self.api or api
        return api

    def worker(self, name: str, concurrency: int = 2, env: dict[str, str] | None = None) -> None:
        self.start(name, topology.worker(name, concurrency), **(env or {}))

    def projector(self, name: str = "projector", env: dict[str, str] | None = None) -> None:
        self.start(name, topology.projector(name), **(env or {}))

    def beat(self) -> None:
        self.start("beat", topology.beat(self.folder))

    def kill(self, name: str) -> None:
        """`kill -9` the process and every child it has."""
        process = self.processes.pop(name)
        processes.signal_group(process, signal.SIGKILL)
        process.wait()

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        processes.signal_group(process, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            processes.signal_group(process, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def ready(self, *names: str) -> None:
        """Wait until each named Celery process (worker, projector) says it is ready to take tasks:
        under load a worker may start seconds after the hosts answer, past a `wait:` timeout."""
        for name in names:
            wait_for(functools.partial(self._says_ready, name), 60, f"{name} to be ready")

    def _says_ready(self, name: str) -> bool:
        return " ready." in self.log(name)

    def eventshop(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "eventshop", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


def _answers(client: Client | None, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, "the API exited early"
    assert client is not None
    try:
        return client.request("GET", "/healthz")[0] == 200
    except OSError:
        return False
