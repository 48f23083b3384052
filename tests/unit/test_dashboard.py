"""The Grafana dashboard in docs/ is valid JSON and asks only for metrics eventshop exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

from store import metrics

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"


def test_every_metric_the_dashboard_queries_is_exported() -> None:
    assert metrics.GRAPHQL_REQUESTS  # the module's metrics are registered
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    families = [*REGISTRY.collect(), *metrics.StoreCollector("unused").describe()]
    exported = {family.name + suffix for family in families for suffix in suffixes.get(family.type, ())}
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\beventshop_[a-z_]+", target["expr"])
    }
    assert len(dashboard["panels"]) >= 10
    assert queried and queried <= exported, queried - exported
