"""Where a command's time goes: the per-stage histograms every eventshop process exports
(`eventshop_command_stage_seconds`, `eventshop_event_projected_seconds`), read from the API's
`/metrics` before and after a run, and summed up per stage (mean, and p50/p99 from the buckets)."""

from __future__ import annotations

import math
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

Histograms = dict[tuple[str, str], dict[str, float]]  # (family, label) -> {"le" bound or sum/count: value}
FAMILIES = {"eventshop_command_stage_seconds": "stage", "eventshop_event_projected_seconds": "projection"}


def scrape(graphql_url: str) -> Histograms:
    with urllib.request.urlopen(graphql_url.removesuffix("/graphql") + "/metrics", timeout=30) as response:
        text = response.read().decode()
    found: Histograms = {}
    for family in text_string_to_metric_families(text):
        label = FAMILIES.get(family.name)
        if label is None:
            continue
        for sample in family.samples:
            key = (family.name, sample.labels[label])
            part = (
                sample.labels.get("le") if sample.name.endswith("_bucket") else sample.name.rsplit("_", 1)[-1]
            )
            found.setdefault(key, {})[str(part)] = sample.value
    return found


def summary(before: Histograms, after: Histograms) -> dict[str, dict[str, float]]:
    """Per stage ("stage record", "projection products", ...): count, mean, p50 and p99 in ms over
    what happened between the two scrapes."""
    found: dict[str, dict[str, float]] = {}
    for (family, label), values in after.items():
        earlier = before.get((family, label), {})
        delta = {k: v - earlier.get(k, 0.0) for k, v in values.items()}
        count = delta.get("count", 0.0)
        if count <= 0:
            continue
        name = f"{'stage' if family.endswith('stage_seconds') else 'projection'} {label}"
        found[name] = {
            "count": count,
            "mean_ms": 1000 * delta.get("sum", 0.0) / count,
            "p50_ms": 1000 * _quantile(delta, count, 0.5),
            "p99_ms": 1000 * _quantile(delta, count, 0.99),
        }
    return found


def _quantile(delta: dict[str, float], count: float, q: float) -> float:
    """The q-quantile from cumulative buckets, interpolated within its bucket (as PromQL's
    histogram_quantile does)."""
    bounds = sorted((float(k), v) for k, v in delta.items() if k not in ("sum", "count"))
    rank, lower, below = q * count, 0.0, 0.0
    for bound, cumulative in bounds:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower
            share = (rank - below) / (cumulative - below) if cumulative > below else 0.0
            return lower + (bound - lower) * share
        lower, below = bound, cumulative
    return lower


def measured(graphql_url: str, run: Any) -> tuple[Any, dict[str, dict[str, float]]]:
    """`run()`'s result, and the stages of what it sent."""
    before = scrape(graphql_url)
    result = run()
    return result, summary(before, scrape(graphql_url))
