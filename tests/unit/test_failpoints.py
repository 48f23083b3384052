"""Failpoints: inert by default; each action does what it says, once when asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from workers.failpoints import FailpointError, hit


def _hit_in_a_process(env: dict[str, str]) -> int:
    """The exit status of a process that hits `handler.before_commit` with `env`."""
    program = "from workers.failpoints import hit; hit('handler.before_commit')"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVENTSHOP_FAILPOINTS")}
    return subprocess.run([sys.executable, "-c", program], env={**clean, **env}, timeout=60).returncode


def test_nothing_happens_without_the_variable() -> None:
    assert _hit_in_a_process({}) == 0
    assert _hit_in_a_process({"EVENTSHOP_FAILPOINTS": "other.point=kill"}) == 0
    assert _hit_in_a_process({"EVENTSHOP_FAILPOINTS": "handler.before_commit=kill"}) == -signal.SIGKILL


def test_raise_dberror_and_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSHOP_FAILPOINTS", "a=raise;b=dberror;c=sleep:0.2")
    with pytest.raises(FailpointError):
        hit("a")
    with pytest.raises(OperationalError):
        hit("b")
    started = time.monotonic()
    hit("c")
    assert time.monotonic() - started >= 0.2
    hit("d")


def test_raise_if_looks_at_the_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSHOP_FAILPOINTS", "p=raise-if:POISON")
    hit("p", "{'name': 'fine'}")
    with pytest.raises(FailpointError):
        hit("p", "{'name': 'POISON pill'}")


def test_once_fires_a_single_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVENTSHOP_FAILPOINTS", "p=raise")
    monkeypatch.setenv("EVENTSHOP_FAILPOINTS_ONCE", str(tmp_path))
    with pytest.raises(FailpointError):
        hit("p")
    hit("p")
    assert (tmp_path / "p").exists()
