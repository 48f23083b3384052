"""Run a set of processes, restart any that dies, and stop them all on Ctrl-C.

Every child stays in the supervisor's process group, so a terminal's Ctrl-C reaches each one and
`kill -9` of the group takes them all. A child that dies is started again after a backoff
(0.5 s, doubling, at most 8 s); one that dies `MAX_DEATHS` times within `WINDOW` seconds stops
the whole system with its last output, since restarting it again would not help.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO

import psutil

MAX_DEATHS = 5
WINDOW = 60.0
FIRST_BACKOFF, MAX_BACKOFF = 0.5, 8.0
# After Ctrl-C: children that got the terminal's SIGINT stop by themselves; the rest get SIGTERM
# after SIGINT_GRACE, and whatever is still alive at STOP_TIMEOUT is killed.
SIGINT_GRACE, STOP_TIMEOUT = 3.0, 12.0
TAIL_LINES = 20


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    deaths: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))


class Supervisor:
    def __init__(
        self,
        programs: Mapping[str, list[str]],
        env: Mapping[str, str],
        ready: Mapping[str, Callable[[], bool]] | None = None,
        output: IO[str] = sys.stdout,
    ) -> None:
        self.children = [Child(name, argv) for name, argv in programs.items()]
        self.env = dict(env)
        self.ready = dict(ready or {})
        self.output = output
        self._lock = threading.Lock()
        self._stop_signal: int | None = None
        self._width = max(len(child.name) for child in self.children)

    def log(self, name: str, line: str) -> None:
        with self._lock:
            self.output.write(f"{time.strftime('%H:%M:%S')} {name:<{self._width}} | {line}\n")
            self.output.flush()

    def run(self) -> int:
        """Start every child and watch them until a stop signal (0) or a child that keeps dying (1)."""
        previous = {
            signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self.children:
                if self._stop_signal is None:
                    self._start(child)
                    self._wait_ready(child)
            failed = self._watch()
        finally:
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if failed is None:
            return 0
        self.log("up", f"{failed.name} died {MAX_DEATHS} times within {WINDOW:.0f} s; stopping everything")
        for line in failed.tail:
            self.log("up", f"{failed.name}: {line}")
        return 1

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self._stop_signal is None:
            self._stop_signal = signum

    def _start(self, child: Child) -> None:
        child.restart_at = None
        child.process = subprocess.Popen(
            child.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.log("up", f"started {child.name} (pid {child.process.pid})")
        threading.Thread(target=self._relay, args=(child, child.process), daemon=True).start()

    def _relay(self, child: Child, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            child.tail.append(line)
            self.log(child.name, line)

    def _wait_ready(self, child: Child, timeout: float = 15.0) -> None:
        probe = self.ready.get(child.name)
        deadline = time.monotonic() + timeout
        while probe and self._stop_signal is None and time.monotonic() < deadline:
            if child.process is not None and child.process.poll() is not None:
                return
            with contextlib.suppress(Exception):
                if probe():
                    return
            time.sleep(0.05)

    def _watch(self) -> Child | None:
        while self._stop_signal is None:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        self._start(child)
                    continue
                assert child.process is not None
                code = child.process.poll()
                if code is None:
                    continue
                while child.deaths and now - child.deaths[0] > WINDOW:
                    child.deaths.popleft()
                child.deaths.append(now)
                if len(child.deaths) >= MAX_DEATHS:
                    self.log("up", f"{child.name} {_how(code)}")
                    return child
                delay = min(FIRST_BACKOFF * 2 ** (len(child.deaths) - 1), MAX_BACKOFF)
                self.log(
                    "up",
                    f"{child.name} {_how(code)}; restarting it in {delay:g} s "
                    f"({len(child.deaths)} of {MAX_DEATHS} deaths allowed within {WINDOW:.0f} s)",
                )
                child.restart_at = now + delay
            time.sleep(0.1)
        self.log("up", f"got {signal.Signals(self._stop_signal).name}; stopping every process")
        return None

    def _stop_all(self) -> None:
        """Let every child stop gracefully, then kill what is left, grandchildren included."""
        live = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        family = [p for process in live for p in _with_descendants(process.pid)]
        started = time.monotonic()
        if self._stop_signal != signal.SIGINT or not _wait(live, SIGINT_GRACE):
            _send(live, signal.SIGTERM)
        if not _wait(live, STOP_TIMEOUT - (time.monotonic() - started)):
            self.log("up", "some processes did not stop in time; killing them")
        for member in family:
            with contextlib.suppress(psutil.Error):
                member.kill()
        for process in live:
            process.wait()


def _how(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _with_descendants(pid: int) -> list[psutil.Process]:
    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def _send(processes: list[subprocess.Popen[bytes]], signum: int) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


def _wait(processes: list[subprocess.Popen[bytes]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(process.poll() is not None for process in processes):
            return True
        time.sleep(0.05)
    return all(process.poll() is not None for process in processes)
