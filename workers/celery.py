"""The Celery application that `celery -A workers` finds, and the settings its process runs with."""

from __future__ import annotations

from store import settings
from store.celery_config import celery_app

config = settings.load()
app = celery_app("eventshop", config, include=["workers.tasks"])
