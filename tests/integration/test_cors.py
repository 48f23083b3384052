"""CORS: a listed origin gets its preflight and its answers marked for it; any other origin gets
neither, so a browser keeps that page out."""

from __future__ import annotations

import asyncio
import os
import urllib.error
import urllib.request

import aiohttp

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


def test_a_browser_websocket_upgrade_is_refused_from_an_unlisted_origin(database: str, broker: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker}
    env["EVENTSHOP_CORS_ORIGINS"] = "https://shop.example"

    async def upgrade(url: str, origin: str | None) -> int:
        headers = {} if origin is None else {"Origin": origin}
        async with aiohttp.ClientSession() as session:
            try:
                socket = await session.ws_connect(url, protocols=("graphql-transport-ws",), headers=headers)
            except aiohttp.WSServerHandshakeError as error:
                return error.status
            await socket.close()
            return 101

    for listed in (env, {**env, "EVENTSHOP_CORS_ORIGINS": ""}):
        with served(settings.load(listed)) as url:
            own = "http://" + url.split("/")[2]
            assert asyncio.run(upgrade(url, "https://evil.example")) == 403
            assert asyncio.run(upgrade(url, own)) == 101  # the API's own pages (GraphiQL)
            assert asyncio.run(upgrade(url, None)) == 101  # no browser: servers, command-line clients
            expected = 101 if listed["EVENTSHOP_CORS_ORIGINS"] else 403
            assert asyncio.run(upgrade(url, "https://shop.example")) == expected


def test_the_preflight_allows_client_and_tracing_headers_and_those_configured(
    database: str, broker: str
) -> None:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker}
    env.update(EVENTSHOP_CORS_ORIGINS="https://shop.example", EVENTSHOP_CORS_HEADERS="X-Tenant, x-shop-id")
    preflight = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    with served(settings.load(env)) as url:
        status, headers = call(url, "OPTIONS", preflight)
        allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
        wanted = {"traceparent", "tracestate", "baggage", "apollographql-client-name"}
        wanted |= {"apollographql-client-version", "x-request-id", "x-tenant", "x-shop-id", "authorization"}
        assert status == 204 and wanted <= allowed, headers
        assert "Access-Control-Request-Headers" in headers["Vary"]
        status, headers = call(url + "?query=%7B__typename%7D", "GET", {"Origin": "https://shop.example"})
        exposed = {h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")}
        assert {"X-Correlation-Id", "Retry-After", "WWW-Authenticate"} <= exposed
