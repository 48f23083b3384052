"""Every process the tests start, and the guard that leaves none behind.

Each process starts in a process group of its own (so a test can stop it and everything it
started, and Ctrl-C in the terminal reaches pytest alone) and inherits `MARK`, this session's
stamp in the environment. When the session ends, after every fixture's teardown, also on a failed
test, Ctrl-C or SIGTERM, `kill_leftovers` kills each registered group and any process still
carrying the stamp, grandchildren in sessions of their own included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

MARK = "EVENTSHOP_TEST_SESSION"
os.environ[MARK] = uuid.uuid4().hex  # before any process starts, so every one inherits it

_groups: dict[int, str] = {}


def start(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(command, **options)` in a new process group, registered for the guard."""
    process: subprocess.Popen[bytes] = subprocess.Popen(command, start_new_session=True, **options)
    _groups[process.pid] = " ".join(command[:4])
    return process


def signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send `signum` to the process and everything in its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stamped(mark: str | None = None) -> list[int]:
    """Processes other than this one (and its own multiprocessing helper, which ends with it)
    whose environment carries this session's stamp."""
    wanted = f"{MARK}={mark or os.environ[MARK]}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if wanted in (entry / "environ").read_bytes().split(b"\0") and not _own_helper(entry):
                found.append(int(entry.name))
    return found


def _own_helper(entry: Path) -> bool:
    """multiprocessing's resource tracker, started by this process: it exits when this one does."""
    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    return parent == os.getpid() and b"multiprocessing.resource_tracker" in (entry / "cmdline").read_bytes()


def kill_leftovers(grace: float = 5.0) -> list[str]:
    """Kill what is left of the processes this session started, after `grace` seconds for those
    already on their way out; returns what was left, for the report."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (any(map(group_alive, _groups)) or stamped()):
        time.sleep(0.1)
    left = [f"{what} (group {pgid})" for pgid, what in _groups.items() if group_alive(pgid)]
    for pgid in _groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    _groups.clear()
    for pid in stamped():
        left.append(f"process {pid}: {_command_line(pid)}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def _command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "(gone)"


def interrupt_on_sigterm() -> None:
    """SIGTERM (a CI timeout, `kill`) ends pytest as Ctrl-C does, so teardown and the guard run."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
