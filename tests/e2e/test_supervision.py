"""`eventshop up` on the embedded default keeps its processes alive and loses nothing when killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from eventshop import topology
from store import db
from store.schema import commands
from tests.conftest import free_port
from tests.e2e.client import Client, running_system, start_up, stop, wait_for
from tests.faults import checks

pytestmark = pytest.mark.backend_independent  # the embedded default, whatever DATABASE_URL says

ROLES = ("broker", "web", "worker", "projector", "beat")


@pytest.fixture
def env() -> dict[str, str]:
    """The embedded default: no DATABASE_URL, no BROKER_URL; beat rings again after 1 s."""
    found = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL")}
    return {**found, "EVENTSHOP_REDELIVER_AFTER": "1"}


def role(up_pid: int, name: str) -> psutil.Process:
    """The process of `eventshop up` that plays `name`, found by its command line."""
    for child in psutil.Process(up_pid).children():
        if topology.role(child.cmdline()) == name:
            return child
    raise AssertionError(f"no {name} process under eventshop up")


def create(api: Client, count: int) -> list[str]:
    return [checks.create(api, f"SUP-{uuid.uuid4().hex[:8].upper()}")["commandId"] for _ in range(count)]


def statuses(data_dir: Path) -> dict[str, int]:
    with db.reading(f"sqlite:///{data_dir / 'eventshop.db'}") as connection:
        rows = connection.execute(select(commands.c.status, func.count()).group_by(commands.c.status))
        return {status: count for status, count in rows}


def verify(env: dict[str, str], data_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "eventshop", "verify", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_role_runs_as_its_own_process_named_in_its_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    with running_system(env, free_port(), tmp_path / "data", tmp_path / "up.log") as api:
        assert api.pid is not None
        pids = {name: role(api.pid, name).pid for name in ROLES}
    assert len(set(pids.values())) == len(ROLES)


def test_a_killed_command_worker_is_restarted_and_its_commands_end_terminal(
    env: dict[str, str], tmp_path: Path
) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    with running_system(env, free_port(), data_dir, log) as api:
        assert api.pid is not None
        worker = role(api.pid, "worker")
        worker.suspend()
        submitted = create(api, 20)
        worker.kill()
        wait_for(
            lambda: "worker was killed by SIGKILL; restarting" in log.read_text(), 30, "the restart line"
        )
        for command_id in submitted:
            assert api.settled(command_id)["status"] == "SUCCEEDED"
        assert role(api.pid, "worker").pid != worker.pid
    assert api.stopped_cleanly
    assert statuses(data_dir) == {"SUCCEEDED": 20}
    verify(env, data_dir)


def test_a_killed_api_is_restarted_and_answers_again(env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    with running_system(env, free_port(), tmp_path / "data", log) as api:
        assert api.pid is not None
        web = role(api.pid, "web")
        old = [web, *web.children()]  # its API processes stop when it dies, not at the same instant
        web.kill()
        wait_for(lambda: "web was killed by SIGKILL; restarting" in log.read_text(), 30, "the restart line")
        _gone, alive = psutil.wait_procs(old, timeout=30)
        assert not alive, f"the killed web's API processes outlived it: {alive}"
        wait_for(lambda: _answers(api), 60, "the restarted API")
        [command_id] = create(api, 1)
        assert api.settled(command_id)["status"] == "SUCCEEDED"
    assert api.stopped_cleanly


def _answers(api: Client) -> bool:
    try:
        return api.request("GET", "/healthz")[0] == 200
    except OSError:
        return False


def test_the_whole_group_killed_and_started_again_loses_no_acknowledged_command(
    env: dict[str, str], tmp_path: Path
) -> None:
    data_dir, log, port = tmp_path / "data", tmp_path / "up.log", free_port()
    with running_system(env, port, data_dir, log) as api:
        assert api.pid is not None
        role(api.pid, "worker").suspend()
        submitted = create(api, 30)
        assert statuses(data_dir) == {"PENDING": 30}
        os.killpg(api.pid, signal.SIGKILL)
    up = start_up(env, port, data_dir, log)
    try:
        wait_for(lambda: _answers(api), 90, "eventshop up started again")
        for command_id in submitted:
            assert api.settled(command_id)["status"] == "SUCCEEDED"
        wait_for(
            lambda: (
                api.data("{ products(first: 50) { totalCount } }")["products"]["totalCount"] == 30 or None
            ),
            30,
            "the 30 products in the read model",
        )
    finally:
        assert stop(up)
    verify(env, data_dir)


def test_a_process_that_keeps_dying_stops_up_with_its_error(env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        up = start_up(env, taken.getsockname()[1], tmp_path / "data", log)
        try:
            code = up.wait(120)
        finally:
            stop(up)
    output = log.read_text()
    assert code == 1, output[-3000:]
    assert "web died 5 times within 60 s; stopping everything" in output
    assert "address already in use" in output.lower()
    assert output.count("web exited with status") == 5
