"""The API serves on uvloop where it is installed (everywhere but Windows)."""

from __future__ import annotations

import asyncio

import uvloop

from api.app import event_loop


def test_the_api_runs_on_uvloop() -> None:
    loop = event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert loop.run_until_complete(asyncio.to_thread(sum, [1, 2])) == 3
    finally:
        loop.close()
