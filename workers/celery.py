"""The Celery application that `celery -A workers` finds."""

from __future__ import annotations

from store import settings
from store.celery_config import celery_app

app = celery_app("eventshop", settings.load(), include=["workers.tasks"])
