"""Small helpers for turning timings into figures."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timings(action: Callable[[], object], n: int) -> list[float]:
    """Seconds each of `n` runs of `action` took."""
    found = []
    for _ in range(n):
        start = time.perf_counter()
        action()
        found.append(time.perf_counter() - start)
    return found


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
