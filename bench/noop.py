"""The baseline Celery app: one no-op task, on the same broker and worker settings as eventshop."""

from __future__ import annotations

import os

from store import settings
from store.celery_config import celery_app

app = celery_app(
    "eventshop-bench",
    settings.load(),
    task_ignore_result=False,
    result_backend=os.environ["BENCH_RESULT_BACKEND"],
    task_routes={"bench.noop": {"queue": "bench"}},
    beat_schedule={},
)


@app.task(name="bench.noop")
def noop() -> None:
    """Does nothing: the round trip is the measure."""
