"""The tests leave no process behind: a pytest run stopped by Ctrl-C or SIGTERM while a test's
processes run (one of them in a session of its own) kills every one of them before it exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import processes
from tests.e2e.client import wait_for

pytestmark = pytest.mark.backend_independent  # the test session's own process guard

ROOT = Path(__file__).resolve().parents[2]

INNER = """
import os, subprocess, sys, time
from pathlib import Path
from tests import processes

def test_starts_processes_and_waits():
    escaper = "import subprocess, time; subprocess.Popen(['setsid', 'sleep', '300']); time.sleep(300)"
    processes.start([sys.executable, "-c", escaper])
    time.sleep(0.5)
    Path(os.environ["READY"]).write_text(os.environ[processes.MARK])
    time.sleep(300)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_kills_every_process_its_tests_started(tmp_path: Path, signum: int) -> None:
    (tmp_path / "test_inner.py").write_text(INNER)
    ready = tmp_path / "ready"
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-q", "-s", "-o", "addopts="]
    command += ["--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")]
    env = {**os.environ, "READY": str(ready), "PYTHONPATH": str(ROOT)}
    env.pop("CI", None)
    inner = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: ready.exists() and ready.read_text(), 60, "the inner test to start its processes")
        mark = ready.read_text()
        # the child, and its grandchild in a session of its own
        wait_for(lambda: len(processes.stamped(mark)) == 2, 30, "the child and its grandchild")
        inner.send_signal(signum)
        output, _ = inner.communicate(timeout=60)
    finally:
        if inner.poll() is None:
            inner.kill()
    assert inner.returncode == pytest.ExitCode.INTERRUPTED, output.decode()
    assert b"left running, and have been killed" in output
    assert processes.stamped(mark) == []
