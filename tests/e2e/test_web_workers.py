"""`eventshop web --workers N`: N API processes on one port, which never outlive their parent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests import processes
from tests.conftest import free_port
from tests.e2e.client import Client, wait_for

pytestmark = pytest.mark.backend_independent  # the embedded default, whatever DATABASE_URL says


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Client, int]]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "EVENTSHOP_DATA_DIR")
    }
    data_dir = str(tmp_path / "data")
    subprocess.run(
        [sys.executable, "-m", "eventshop", "migrate", "--data-dir", data_dir], env=env, check=True
    )
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "eventshop",
        "web",
        "--port",
        str(port),
        "--workers",
        "2",
        "--data-dir",
        data_dir,
    ]
    process = processes.start(command, env=env)
    api = Client(f"http://127.0.0.1:{port}")
    wait_for(lambda: _answers(api), 60, "the API")
    yield process, api, port
    processes.signal_group(process, signal.SIGKILL)
    process.wait()


def _answers(api: Client) -> bool:
    try:
        return api.request("GET", "/healthz")[0] == 200
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a new API would; ignores TIME_WAIT
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_two_processes_serve_one_port(web: tuple[subprocess.Popen[bytes], Client, int]) -> None:
    process, api, _port = web
    children = psutil.Process(process.pid).children()
    assert len(children) == 2
    for _ in range(40):
        assert api.data("{ products(first: 1) { totalCount } }")["products"]["totalCount"] == 0


def test_the_processes_stop_when_their_parent_is_killed(
    web: tuple[subprocess.Popen[bytes], Client, int],
) -> None:
    process, _api, port = web
    children = psutil.Process(process.pid).children()
    process.kill()
    process.wait()
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, "an API process outlived its parent"
    wait_for(lambda: _port_free(port), 15, "the port to be free")


def test_one_process_dying_stops_the_rest_and_the_parent_exits_1(
    web: tuple[subprocess.Popen[bytes], Client, int],
) -> None:
    process, _api, _port = web
    first, second = psutil.Process(process.pid).children()
    first.kill()
    assert process.wait(20) == 1
    assert not second.is_running() or second.wait(15) is not None
