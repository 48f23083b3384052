"""Failpoints: inert by default; each action does what it says, once when asked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from workers.failpoints import FailpointError, hit


def test_nothing_happens_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTSHOP_FAILPOINTS", raising=False)
    hit("handler.before_commit")


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
