"""Celery settings shared by the workers and by the API, which only sends tasks by name, and the
one way to build a Celery application from them."""

from __future__ import annotations

from typing import Any

from celery import Celery

from store.broker import client_url
from store.settings import Settings

HANDLE_COMMANDS = "eventshop.handle_commands"
PROJECT = "eventshop.project"
REDELIVER = "eventshop.redeliver"
COMMANDS_QUEUE, PROJECTIONS_QUEUE = "commands", "projections"


def celery_config(settings: Settings) -> dict[str, Any]:
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": settings.broker_timeout,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "task_default_queue": COMMANDS_QUEUE,
        "task_routes": {
            HANDLE_COMMANDS: {"queue": COMMANDS_QUEUE},
            REDELIVER: {"queue": COMMANDS_QUEUE},
            PROJECT: {"queue": PROJECTIONS_QUEUE},
        },
        "beat_schedule": {
            "redeliver-lost-doorbells": {"task": REDELIVER, "schedule": settings.redeliver_after}
        },
        "broker_transport_options": (
            {"visibility_timeout": 300, "socket_connect_timeout": 2}
            if client_url(settings.broker_url)
            else {}
        ),
    }


def celery_app(name: str, settings: Settings, **overrides: Any) -> Celery:
    """A Celery application on eventshop's broker and settings (`overrides` on top)."""
    app = Celery(name)
    app.config_from_object({**celery_config(settings), **overrides})
    return app
