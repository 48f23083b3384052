"""What an operator's tools ask the API: is it alive (`/healthz`), may it take traffic
(`/readyz`), and its metrics (`/metrics`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import select

from api.keys import SETTINGS
from api.read import replicas
from store import broker, db, eventstore, metrics
from store.schema import projections
from store.settings import Settings

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers and reaches its database."""
    try:
        await asyncio.to_thread(db.ping, request.app[SETTINGS].database_url)
    except Exception:
        log.warning("health check: database unreachable", exc_info=True)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: database and broker answer, no projection is halted or further behind than
    `EVENTSHOP_READY_MAX_LAG` events. The body says what failed; replicas that are down or behind
    show as degraded without making the API unready (reads go to the primary instead)."""
    config = request.app[SETTINGS]
    checks = await asyncio.to_thread(_checks, config)
    ready = all(value == "ok" for value in checks.values())
    if (spread := replicas.spread(config.database_url)) is not None:
        checks["replicas"] = spread.status()
    return web.json_response(
        {"status": "ready" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


async def metrics_view(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(metrics.exposition, request.app[SETTINGS].database_url)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _checks(config: Settings) -> dict[str, Any]:
    found: dict[str, Any] = {"database": "ok", "broker": "ok", "projections": "ok"}
    try:
        with db.reading(config.database_url) as connection:
            head = eventstore.head(connection)
            rows = connection.execute(
                select(projections.c.name, projections.c.position, projections.c.status)
            ).all()
    except Exception:
        log.warning("readiness: database unreachable", exc_info=True)
        return {**found, "database": "unreachable", "projections": "unknown"}
    try:
        client = broker.redis_client(config.broker_url)
        if client is not None:
            client.ping()
    except Exception:
        log.warning("readiness: broker unreachable")
        found["broker"] = "unreachable"
    halted = sorted(row.name for row in rows if row.status == "HALTED")
    behind = {row.name: head - row.position for row in rows if head - row.position > config.ready_max_lag}
    if halted or behind:
        found["projections"] = {"halted": halted, "lagging": behind, "max_lag": config.ready_max_lag}
    return found
