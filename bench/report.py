"""The results as a table, a JSON file and a PNG chart."""

from __future__ import annotations

import json
import math
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Row = tuple[str, float, str, str, float | None, str]


def _ratio(value: float, baseline: float | None) -> float | None:
    if baseline is None or not baseline or math.isnan(value) or math.isnan(baseline):
        return None
    return value / baseline


STAGES_SHOWN = "stages uniform 200/s"  # the run whose stages the table and the chart show
P99_GOALS_MS = {  # command -> visible, p99
    "uniform 200/s": 100.0,
    "uniform 400/s": 250.0,
    "Procfile uniform 200/s": 100.0,
}
EMBEDDED_GOAL_PER_S = 300.0  # creates/s from 16 clients on SQLite + the embedded broker


def rows(r: dict[str, Any]) -> list[Row]:
    """(figure, value, unit, baseline name, baseline value, goal) for every figure measured."""
    b = r["baselines"]
    query_floor = b["tartiflette_p50_ms"] + b["pk_select_p50_ms"]
    found: list[Row] = []
    for label, run in r["e2e"].items():
        found += [
            (f"e2e {label}: accepted mutations/s", run["accepted_per_s"], "/s", "", None, ""),
            (
                f"e2e {label}: completed commands/s",
                run["completed_per_s"],
                "/s",
                "celery no-op/s",
                b["celery_noop_per_s"],
                ">= 1.0" if "saturation" in label and "hot" not in label else "",
            ),
            *(
                [
                    (
                        f"e2e {label}: completed commands/s",
                        run["completed_per_s"],
                        "/s",
                        "eventsourcing creates/s",
                        b["eventsourcing_creates_per_s"],
                        ">= 1.0",
                    )
                ]
                if "saturation" in label and "eventsourcing_creates_per_s" in b and "hot" not in label
                else []
            ),
            *(
                [
                    (
                        f"e2e {label}: completed commands/s",
                        run["completed_per_s"],
                        "/s",
                        f"goal {EMBEDDED_GOAL_PER_S:.0f}/s",
                        EMBEDDED_GOAL_PER_S,
                        ">= 1.0" if r["environment"]["backend"].startswith("SQLite") else "",
                    )
                ]
                if label == "create-only, 16 clients"
                else []
            ),
            (f"e2e {label}: latency p50", run["latency_p50_ms"], "ms", "", None, ""),
            (f"e2e {label}: latency p95", run["latency_p95_ms"], "ms", "", None, ""),
            (
                f"e2e {label}: latency p99",
                run["latency_p99_ms"],
                "ms",
                f"goal {P99_GOALS_MS.get(label, 100):.0f} ms",
                P99_GOALS_MS.get(label, 100.0),
                "<= 1.0" if label in P99_GOALS_MS else "",
            ),
        ]
    a = r["storage"]
    found += [
        (
            "append, 1 event/transaction",
            a["append_batch1_events_per_s"],
            "events/s",
            "INSERT+COMMIT/s",
            b["insert_commit_per_s"],
            "",
        ),
        (
            "append, 10 events/transaction",
            a["append_batch10_events_per_s"],
            "events/s",
            "batched INSERT rows/s",
            b["batched_insert_rows_per_s"],
            "",
        ),
        (
            f"rebuild products from {int(a['rebuild_events']):,} events",
            a["rebuild_events_per_s"],
            "events/s",
            "batched INSERT rows/s",
            b["batched_insert_rows_per_s"],
            ">= 0.5",
        ),
        ("rebuild peak memory", a["rebuild_peak_rss_mib"], "MiB", "", None, ""),
        *(
            (
                f"write ceiling: 4 appenders, {size} events/transaction",
                a[key],
                "events/s",
                "batched INSERT rows/s",
                b["batched_insert_rows_per_s"],
                "",
            )
            for size in (10, 100)
            if (key := f"ceiling_4w_batch{size}_events_per_s") in a
        ),
    ]
    for size in (10, 1000, 10000):
        goal = "<= 3.0" if size == 10000 else ""
        found.append(
            (
                f"load a {size:,}-event product",
                a[f"load_{size}_ms"],
                "ms",
                "10-event load",
                a["load_10_ms"],
                goal,
            )
        )
        found.append(
            (f"  full replay of {size:,} events (no snapshot)", a[f"replay_{size}_ms"], "ms", "", None, "")
        )
    q = r["queries"]
    found += [
        (
            "product(id) over HTTP p50",
            q["product_p50_ms"],
            "ms",
            "Tartiflette + PK SELECT p50",
            query_floor,
            "<= 1.5",
        ),
        (
            "product(id) over HTTP",
            q["product_per_s"],
            "req/s",
            "Tartiflette in-process/s",
            b["tartiflette_per_s"],
            "",
        ),
        ("product(id) over HTTP p99", q["product_p99_ms"], "ms", "", None, ""),
        ("products(first: 20) over HTTP", q["products_per_s"], "req/s", "", None, ""),
        ("products(first: 20) p50", q["products_p50_ms"], "ms", "", None, ""),
        ("products(first: 20) p99", q["products_p99_ms"], "ms", "", None, ""),
        ("baseline: celery no-op round trips", b["celery_noop_per_s"], "/s", "", None, ""),
        *(
            [
                (
                    "baseline: eventsourcing in-process creates",
                    b["eventsourcing_creates_per_s"],
                    "/s",
                    "",
                    None,
                    "",
                )
            ]
            if "eventsourcing_creates_per_s" in b
            else []
        ),
        ("baseline: INSERT+COMMIT", b["insert_commit_per_s"], "/s", "", None, ""),
        ("baseline: batched INSERT", b["batched_insert_rows_per_s"], "rows/s", "", None, ""),
        ("baseline: Tartiflette in-process p50", b["tartiflette_p50_ms"], "ms", "", None, ""),
        ("baseline: primary-key SELECT p50", b["pk_select_p50_ms"], "ms", "", None, ""),
    ]
    if m := r.get("memory"):
        found.append(
            (
                f"API resident memory after {m['distinct_queries']:,} more distinct queries",
                m["api_rss_after_mib"],
                "MiB",
                "before them",
                m["api_rss_before_mib"],
                "<= 1.1",
            )
        )
    for stage, figures in r.get(STAGES_SHOWN, {}).items():
        found += [
            (f"where the time goes at 200/s: {stage} mean", figures["mean_ms"], "ms", "", None, ""),
            (f"where the time goes at 200/s: {stage} p99", figures["p99_ms"], "ms", "", None, ""),
        ]
    return found


def environment(backend: str) -> dict[str, Any]:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "backend": backend,
    }


def write(results: dict[str, Any], out: Path) -> list[Row]:
    out.mkdir(parents=True, exist_ok=True)
    table_rows = rows(results)
    results["table"] = [
        {
            "figure": f,
            "value": v,
            "unit": u,
            "baseline": bn,
            "baseline_value": bv,
            "ratio": _ratio(v, bv),
            "goal": g,
        }
        for f, v, u, bn, bv, g in table_rows
    ]
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float))
    _chart(results, out / "results.png")
    table = Table(
        title=f"eventshop bench — {results['environment']['backend']}, {results['environment']['date']}"
    )
    for column in ("figure", "value", "unit", "baseline", "ratio", "goal"):
        table.add_column(column, justify="right" if column in ("value", "ratio") else "left")
    for f, v, u, bn, bv, g in table_rows:
        ratio = _ratio(v, bv)
        base = f"{bn} = {bv:,.1f}" if bv is not None else ""
        table.add_row(f, f"{v:,.1f}", u, base, "" if ratio is None else f"{ratio:.2f}", g)
    Console(width=160).print(table)
    return table_rows


def _chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right, stages) = plt.subplots(1, 3, figsize=(19, 4.5))
    for label, run in results["e2e"].items():
        if run["latencies_ms"]:
            left.hist(run["latencies_ms"], bins=60, histtype="step", label=label)
        if run["completed_at"]:
            seconds = [int(t) for t in run["completed_at"]]
            per_second = [seconds.count(s) for s in range(max(seconds) + 1)]
            right.plot(range(len(per_second)), per_second, label=label)
    left.set(title="command-to-read-model latency", xlabel="ms", ylabel="commands", yscale="log")
    right.set(title="completed commands per second", xlabel="s since the run started", ylabel="commands/s")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    shown = results.get(STAGES_SHOWN, {})
    names = list(shown)
    stages.barh(names, [shown[n]["mean_ms"] for n in names], label="mean")
    stages.barh(names, [shown[n]["p99_ms"] for n in names], alpha=0.35, label="p99")
    stages.set(title="where a command's time goes at 200/s", xlabel="ms", xscale="log")
    stages.tick_params(axis="y", labelsize=7)
    stages.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
