"""The Celery application that `celery -A workers` finds."""

from __future__ import annotations

from celery import Celery

from store import settings
from store.celery_config import celery_config

app = Celery("eventshop", include=["workers.tasks"])
app.config_from_object(celery_config(settings.load()))
