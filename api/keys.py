"""What each API process keeps on its aiohttp application, under these keys."""

from __future__ import annotations

from aiohttp import web
from tartiflette import Engine

from api.clients import MetricLabels
from api.commands import Submitter
from api.gate import Gate
from api.persisted import Documents
from api.watch import Watcher
from store.settings import Settings

ENGINE = web.AppKey("engine", Engine)
SUBMITTER = web.AppKey("submitter", Submitter)
SETTINGS = web.AppKey("settings", Settings)
WATCHER = web.AppKey("watcher", Watcher)
GATE = web.AppKey("gate", Gate)
PERSISTED = web.AppKey("persisted", Documents)
CLIENT_LABELS = web.AppKey("client_labels", MetricLabels)
