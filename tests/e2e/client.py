"""A small GraphQL-over-HTTP client and a running eventshop system for end-to-end tests."""

from __future__ import annotations

import functools
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tests import auth, processes

T = TypeVar("T")

CELERY_ROLES = ("worker", "projector")  # the processes of `eventshop up` that log " ready."


class Client:
    """Sends `credential` (a token or API key; by default an admin's token) with every request,
    or none if `anonymous`."""

    def __init__(
        self, base: str, pid: int | None = None, credential: str | None = None, anonymous: bool = False
    ) -> None:
        self.base = base
        self.pid = pid
        self.stopped_cleanly: bool | None = None
        self.log: Path | None = None  # where the system's output goes, when this client started it
        self.credential = None if anonymous else credential or auth.token()

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        sent = {"Authorization": f"Bearer {self.credential}"} if self.credential else {}
        sent.update(headers or {})
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, found, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, found, raw = error.code, dict(error.headers), error.read()
        try:
            return status, found, json.loads(raw)
        except ValueError:
            return status, found, raw.decode(errors="replace")

    def post(self, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        return self.request(
            "POST",
            "/graphql",
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        """The response of a request that must succeed at the HTTP level."""
        status, _headers, body = self.post({"query": query, "variables": variables})
        assert status == 200, body
        assert isinstance(body, dict)
        return body

    def data(self, query: str, **variables: Any) -> Any:
        body = self.gql(query, **variables)
        assert "errors" not in body, body
        return body["data"]

    def command(self, command_id: str) -> dict[str, Any] | None:
        query = """query($id: ID!) {
            command(id: $id) { id type aggregateId status error submittedAt completedAt } }"""
        found: dict[str, Any] | None = self.data(query, id=command_id)["command"]
        return found

    def settled(self, command_id: str, timeout: float = 60) -> dict[str, Any]:
        """The command once it is no longer PENDING."""
        return wait_for(lambda: _done(self.command(command_id)), timeout, f"command {command_id} to settle")

    def product(self, product_id: str) -> dict[str, Any] | None:
        query = """query($id: ID!) { product(id: $id) {
            id sku name description categories price { amount currency } version createdAt updatedAt } }"""
        found: dict[str, Any] | None = self.data(query, id=product_id)["product"]
        return found


def _done(command: dict[str, Any] | None) -> dict[str, Any] | None:
    return command if command and command["status"] != "PENDING" else None


def wait_for(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def running_system(env: dict[str, str], port: int, data_dir: Path, log: Path) -> Iterator[Client]:
    """`eventshop up` as a user runs it, in its own process group; Ctrl-C (SIGINT) stops it."""
    process = start_up(env, port, data_dir, log)
    client = Client(f"http://127.0.0.1:{port}", process.pid)
    client.log = log
    try:
        wait_for(lambda: _healthy(client, process, log), 90, "the API to answer /healthz")
        for role in CELERY_ROLES:  # under load they can start seconds after the API, past a `wait:`
            wait_for(functools.partial(_says_ready, log, role), 90, f"the {role} to be ready")
        yield client
    finally:
        client.stopped_cleanly = stop(process)


def _says_ready(log: Path, role: str) -> bool:
    """Whether the Celery process playing `role` has logged that it takes tasks."""
    line = re.compile(rf"^\S+ {role} +\| .* ready\.", re.MULTILINE)
    return line.search(log.read_text(errors="replace")) is not None


def _healthy(client: Client, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"eventshop up exited early:\n{log.read_text()[-4000:]}")
    try:
        return client.request("GET", "/healthz")[0] == 200
    except OSError:
        return False


def start_up(env: dict[str, str], port: int, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """`eventshop up` in its own process group, its output appended to `log`."""
    with log.open("ab") as output:
        return processes.start(
            [sys.executable, "-m", "eventshop", "up", "--port", str(port), "--data-dir", str(data_dir)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> bool:
    """Press Ctrl-C (SIGINT to the whole process group, as a terminal does); True if every
    process of the group ended within `timeout` seconds."""
    processes.signal_group(process, signal.SIGINT)
    try:
        ended = lambda: process.poll() is not None and not processes.group_alive(process.pid)  # noqa: E731
        wait_for(ended, timeout, "every process of the group to end")
        clean = True
    except AssertionError:
        clean = False
    if not clean:
        processes.signal_group(process, signal.SIGKILL)
    process.wait()
    return clean
