"""CORS: a listed origin gets its preflight and its answers marked for it; any other origin gets
neither, so a browser keeps that page out."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

from store import settings
from tests.served import served


def call(url: str, method: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_only_configured_origins_pass_preflight_and_see_answers(database: str, broker: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker}
    env["EVENTSHOP_CORS_ORIGINS"] = "https://shop.example, https://admin.example"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    with served(settings.load(env)) as url:
        status, headers = call(url, "OPTIONS", {"Origin": "https://shop.example", **preflight})
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "https://shop.example"
        assert "Authorization" in headers["Access-Control-Allow-Headers"]
        assert "POST" in headers["Access-Control-Allow-Methods"]
        status, headers = call(url, "OPTIONS", {"Origin": "https://evil.example", **preflight})
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
        status, headers = call(url + "?query=%7B__typename%7D", "GET", {"Origin": "https://admin.example"})
        assert (status, headers["Access-Control-Allow-Origin"]) == (200, "https://admin.example")
        assert "Retry-After" in headers["Access-Control-Expose-Headers"]
        status, headers = call(url + "?query=%7B__typename%7D", "GET", {"Origin": "https://evil.example"})
        assert status == 200 and "Access-Control-Allow-Origin" not in headers and headers["Vary"] == "Origin"


def test_no_origin_is_allowed_unless_configured(database: str, broker: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker}
    env.pop("EVENTSHOP_CORS_ORIGINS", None)
    with served(settings.load(env)) as url:
        status, headers = call(
            url, "OPTIONS", {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
        )
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
