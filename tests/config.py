"""The settings a test's environment describes: fixtures set `DATABASE_URL` and friends, and a
test may set more before it asks."""

from __future__ import annotations

from store import settings


def config() -> settings.Settings:
    return settings.load()


def database_url() -> str:
    return settings.load().database_url
