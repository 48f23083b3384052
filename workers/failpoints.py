"""Fault injection for the fault tests: inert unless EVENTSHOP_FAILPOINTS names a point.

EVENTSHOP_FAILPOINTS="point=action;point=action", where action is one of
  sleep:SECONDS      pause there (hold a transaction open, widen a race)
  kill               SIGKILL this process there, like `kill -9`
  raise              raise FailpointError
  raise-if:TEXT      raise FailpointError when TEXT appears in the detail passed to `hit`
"""

from __future__ import annotations

import os
import signal
import time
from functools import cache


class FailpointError(Exception):
    """Raised at a failpoint set to `raise`."""


@cache
def _parse(spec: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in spec.split(";") if "=" in item)
    return {point.strip(): action.strip() for point, action in pairs}


def hit(point: str, detail: str = "") -> None:
    action = _parse(os.environ.get("EVENTSHOP_FAILPOINTS", "")).get(point)
    if action is None:
        return
    kind, _, argument = action.partition(":")
    if kind == "sleep":
        time.sleep(float(argument))
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "raise" or (kind == "raise-if" and argument in detail):
        raise FailpointError(f"failpoint {point}")
