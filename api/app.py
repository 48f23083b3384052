"""The aiohttp application: `/graphql` and `/healthz`."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from api import engine as engines
from api.commands import Submitter
from api.doorbell import Doorbell
from api.http import ENGINE, SUBMITTER, graphql
from store import db, settings

log = logging.getLogger(__name__)


async def healthz(_request: web.Request) -> web.Response:
    try:
        await asyncio.to_thread(db.ping)
    except Exception:
        log.warning("health check: database unreachable", exc_info=True)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok"})


async def _start(app: web.Application) -> None:
    app[ENGINE] = await engines.engine()
    config = settings.load()
    app[SUBMITTER] = Submitter(config, Doorbell(config))


def create_app() -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("GET", "/graphql", graphql)
    app.router.add_route("POST", "/graphql", graphql)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(_start)
    return app


def run(host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(create_app(), host=host, port=port, print=None, access_log=None)
