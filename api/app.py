"""The aiohttp application: `/graphql`, the landing page and GraphiQL, health and metrics."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from api.graphql import engine as engines
from api.http import cors, graphiql, health
from api.http.graphql import graphql
from api.keys import (
    CLIENT_LABELS,
    ENGINE,
    GATE,
    OPERATION_LABELS,
    PERSISTED,
    REPLICA_CHECKS,
    SETTINGS,
    SUBMITTER,
    WATCHER,
)
from api.live import ws
from api.live.watch import Watcher
from api.read import replicas
from api.security import persisted
from api.security.auth import Authenticator, describe
from api.security.clients import MetricLabels
from api.security.gate import Gate
from api.security.shared_documents import SharedDocuments
from api.write.commands import Submitter
from api.write.doorbell import Doorbell
from store import logs, personal
from store.settings import Settings

log = logging.getLogger(__name__)

REPLICA_CHECK_EVERY = 1.0  # seconds between looks at the replicas
SHUTDOWN_GRACE = 5.0  # seconds open requests and connections get to finish when stopping
PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies (Linux)


async def _start(app: web.Application) -> None:
    app[ENGINE] = await engines.engine()
    config = app[SETTINGS]
    app[WATCHER] = Watcher(config.database_url, config.broker_url)
    await app[WATCHER].start()
    app[SUBMITTER] = Submitter(config, Doorbell(config), app[WATCHER])
    app[GATE] = Gate(config)
    if config.read_urls:
        spread = replicas.Replicas(config.database_url, config.read_urls, config.replica_max_lag)
        replicas.configure(spread)
        app[REPLICA_CHECKS] = asyncio.create_task(_check_replicas(spread))


async def _check_replicas(spread: replicas.Replicas) -> None:
    """Every second: which replicas answer and keep up (`api.read.replicas`)."""
    while True:
        try:
            await asyncio.to_thread(spread.check)
        except Exception:
            log.warning("could not check the replicas against the primary")
        await asyncio.sleep(REPLICA_CHECK_EVERY)


async def _stop(app: web.Application) -> None:
    await app[WATCHER].stop()
    await app[SUBMITTER].close()
    await app[GATE].close()
    await app[PERSISTED].close()
    if REPLICA_CHECKS in app:
        app[REPLICA_CHECKS].cancel()
        replicas.forget(app[SETTINGS].database_url)


def check(config: Settings) -> None:
    """Raise `SettingsError` (naming the variable) for a key file, a manifest or a master key the
    API could not use, so that it stops before it serves."""
    Authenticator(config)
    persisted.Documents(config.auth.trusted_documents)
    personal.master_keys(config)


def quiet_malformed_requests(record: logging.LogRecord) -> bool:
    """A request aiohttp could not parse (a bad Content-Length, chunked with a length...) is the
    client's fault: one WARNING line saying what was wrong, not an ERROR with a traceback."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, HttpProcessingError):
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        reason = str(error.message).strip().splitlines()[0] if error.message else type(error).__name__
        record.msg, record.args, record.exc_info, record.exc_text = (
            f"malformed request refused: {reason}",
            (),
            None,
            None,
        )
    return True


def create_app(config: Settings) -> web.Application:
    app = web.Application(
        client_max_size=config.limits.max_body,
        middlewares=[cors.middleware(config.auth.cors_origins, config.auth.cors_headers)],
    )
    app[SETTINGS] = config
    app[PERSISTED] = persisted.Documents(
        config.auth.trusted_documents, SharedDocuments.for_broker(config.broker_url)
    )
    app[CLIENT_LABELS] = MetricLabels()
    app[OPERATION_LABELS] = MetricLabels(missing="anonymous")
    app.router.add_route("GET", "/graphql", graphql)
    app.router.add_route("POST", "/graphql", graphql)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics_view)
    graphiql.add_routes(app, config.auth.production)  # `/` and GraphiQL's files
    app[ws.OPEN] = set()
    app.on_startup.append(_start)
    app.on_shutdown.append(ws.close_all)
    app.on_cleanup.append(_stop)
    return app


def run(config: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve on `host:port` from `workers` processes that share one listening socket.

    The socket is bound before the processes fork, so a port in use fails at once. If one process
    dies the others are stopped and `run` exits 1, for a supervisor to start them all again.
    """
    logs.configure(config.json_logs, config.log_level)
    logging.getLogger("aiohttp.server").addFilter(quiet_malformed_requests)
    check(config)
    (log.info if config.auth.required else log.warning)(describe(config))
    listener = socket.create_server((host, port), backlog=1024)
    if workers <= 1:
        _serve(config, listener)
        return
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_serve_child, args=(config, listener, os.getpid()), name=f"web-{n}")
        for n in range(workers)
    ]
    for child in children:
        child.start()
    listener.close()
    stop = {signal.SIGINT: False, signal.SIGTERM: False}

    def on_signal(signum: int, _frame: object) -> None:
        stop[signal.Signals(signum)] = True

    for signum in stop:
        signal.signal(signum, on_signal)
    while not any(stop.values()) and all(child.is_alive() for child in children):
        multiprocessing.connection.wait([child.sentinel for child in children], timeout=0.5)
    for child in children:
        if child.is_alive():
            os.kill(child.pid or 0, signal.SIGTERM)
    for child in children:
        child.join()
    if not any(stop.values()):
        sys.exit(1)


def event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (not on Windows): Tartiflette's many small tasks
    and aiohttp's I/O take less CPU on it than on asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _serve(config: Settings, listener: socket.socket) -> None:
    """Serve until stopped. aiohttp's keep-alive timer also runs from a connection's opening and from
    each answer until the next request's headers are complete, so it is the header timeout."""
    web.run_app(
        create_app(config),
        loop=event_loop(),
        sock=listener,
        print=None,
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE,
        keepalive_timeout=config.limits.header_timeout,
    )


def _serve_child(config: Settings, listener: socket.socket, parent: int) -> None:
    """One of several API processes: it stops when its parent dies, even by `kill -9`, so the
    shared socket is never left held by orphans."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        return
    _serve(config, listener)
