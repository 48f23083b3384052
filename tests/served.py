"""The API app served over real HTTP by a thread's event loop, for tests that talk to it in-process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from api.app import create_app
from store.settings import Settings
from tests.conftest import free_port


@contextmanager
def served(config: Settings) -> Iterator[str]:
    """The `/graphql` URL of the API app for `config`, on a free port, until the block ends."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(config), shutdown_timeout=2)
    port = free_port()

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
