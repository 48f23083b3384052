"""What each API process keeps on its aiohttp application, under these keys."""

from __future__ import annotations

import asyncio

from aiohttp import web
from tartiflette import Engine

from api.live.watch import Watcher
from api.security.clients import MetricLabels
from api.security.gate import Gate
from api.security.persisted import Documents
from api.write.commands import Submitter
from store.settings import Settings

ENGINE = web.AppKey("engine", Engine)
SUBMITTER = web.AppKey("submitter", Submitter)
SETTINGS = web.AppKey("settings", Settings)
WATCHER = web.AppKey("watcher", Watcher)
GATE = web.AppKey("gate", Gate)
PERSISTED = web.AppKey("persisted", Documents)
CLIENT_LABELS = web.AppKey("client_labels", MetricLabels)
OPERATION_LABELS = web.AppKey("operation_labels", MetricLabels)
REPLICA_CHECKS = web.AppKey("replica_checks", asyncio.Task[None])
