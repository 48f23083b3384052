"""Fault injection for the fault tests: inert unless EVENTSHOP_FAILPOINTS names a point.

EVENTSHOP_FAILPOINTS="point=action;point=action", where action is one of
  sleep:SECONDS      pause there (hold a transaction open, widen a race)
  kill               SIGKILL this process there, like `kill -9`
  raise              raise FailpointError (an application error)
  dberror            raise a database OperationalError
  raise-if:TEXT      raise FailpointError when TEXT appears in the detail passed to `hit`
With EVENTSHOP_FAILPOINTS_ONCE=FOLDER each point fires once across processes (a marker file).
"""

from __future__ import annotations

import os
import signal
import time
from functools import cache
from pathlib import Path

from sqlalchemy.exc import OperationalError


class FailpointError(Exception):
    """Raised at a failpoint set to `raise`."""


@cache
def _parse(spec: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in spec.split(";") if "=" in item)
    return {point.strip(): action.strip() for point, action in pairs}


def _first_time(point: str) -> bool:
    folder = os.environ.get("EVENTSHOP_FAILPOINTS_ONCE")
    if not folder:
        return True
    try:
        (Path(folder) / point).touch(exist_ok=False)
    except FileExistsError:
        return False
    return True


def hit(point: str, detail: object = "") -> None:
    """Act at `point` if a failpoint is set there; `detail` is only turned to text for raise-if."""
    spec = os.environ.get("EVENTSHOP_FAILPOINTS")
    if not spec:
        return
    action = _parse(spec).get(point)
    if action is None:
        return
    kind, _, argument = action.partition(":")
    if kind == "raise-if" and argument not in str(detail):
        return
    if not _first_time(point):
        return
    if kind == "sleep":
        time.sleep(float(argument))
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "dberror":
        raise OperationalError(point, {}, Exception(f"failpoint {point}"))
    else:
        raise FailpointError(f"failpoint {point}")
