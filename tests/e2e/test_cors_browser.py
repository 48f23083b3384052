"""Pages on other origins, in headless Chromium: a page on a listed origin sends mutations with the
headers GraphQL clients and tracing add, reads `X-Correlation-Id` (the trace id of the
`traceparent` it sent) and opens a subscription's WebSocket; a page on an unlisted origin is
refused over HTTP (its preflight) and over WebSocket (before the upgrade)."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from store import settings
from tests import auth
from tests.conftest import free_port
from tests.e2e.conftest import LOCAL
from tests.served import served

TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE}-b7ad6b7169203331-01"
CLIENT_HEADERS = {
    "traceparent": TRACEPARENT,
    "tracestate": "congo=t61rcWkgMzE",
    "baggage": "userId=alice",
    "apollographql-client-name": "shop-web",
    "apollographql-client-version": "1.4.2",
    "X-Request-Id": "req-42",
}
CREATE = """mutation($sku: String!) { createProduct(input: {sku: $sku, name: "Mug",
    price: {amount: 100, currency: "EUR"}}) { commandId status } }"""

MUTATE = """async ([url, headers, body]) => {
    try {
        const response = await fetch(url, {method: "POST", headers, body});
        return {status: response.status, correlation: response.headers.get("X-Correlation-Id"),
                body: await response.json()};
    } catch (error) {
        return {failed: String(error)};
    }
}"""
SUBSCRIBE = """(url) => new Promise((resolve) => {
    const socket = new WebSocket(url, "graphql-transport-ws");
    socket.onopen = () => socket.send(JSON.stringify({type: "connection_init", payload: {}}));
    socket.onmessage = (message) => { resolve(JSON.parse(message.data).type); socket.close(); };
    socket.onclose = (event) => resolve("closed " + event.code);
})"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Pages:
    """A static web server on a port of its own: its origin is another than the API's."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        (folder / "index.html").write_text("<!doctype html><title>shop</title><p>a shop's page</p>")
        handler = functools.partial(Quiet, directory=str(folder))
        self.server = ThreadingHTTPServer((LOCAL, free_port()), handler)
        self.origin = f"http://{LOCAL}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origins(tmp_path: Path) -> Iterator[tuple[Pages, Pages]]:
    """Two origins: the first is listed in EVENTSHOP_CORS_ORIGINS, the second is not."""
    listed, unlisted = Pages(tmp_path / "listed"), Pages(tmp_path / "unlisted")
    yield listed, unlisted
    listed.close()
    unlisted.close()


@pytest.fixture
def api(database: str, broker: str, origins: tuple[Pages, Pages]) -> Iterator[str]:
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker}
    env["EVENTSHOP_CORS_ORIGINS"] = f"https://elsewhere.example, {origins[0].origin}"
    with served(settings.load(env)) as url:
        yield url


def open_page(browser: Browser, origin: str) -> Page:
    page = browser.new_page()
    page.goto(origin + "/index.html")
    return page


def mutate(page: Page, url: str, headers: dict[str, str], sku: str) -> dict[str, Any]:
    sent = {"Content-Type": "application/json", "Authorization": f"Bearer {auth.token()}", **headers}
    body = json.dumps({"query": CREATE, "variables": {"sku": sku}})
    answer: dict[str, Any] = page.evaluate(MUTATE, [url, sent, body])
    return answer


def test_a_listed_origin_sends_client_and_tracing_headers_and_reads_the_correlation_id(
    browser: Browser, api: str, origins: tuple[Pages, Pages]
) -> None:
    page = open_page(browser, origins[0].origin)
    for n, (name, value) in enumerate([*CLIENT_HEADERS.items(), ("all", "")]):
        headers = CLIENT_HEADERS if name == "all" else {name: value}
        answer = mutate(page, api, headers, f"CORS-{n}")
        assert answer.get("status") == 200, (name, answer)
        assert "errors" not in answer["body"], (name, answer)
        assert answer["body"]["data"]["createProduct"]["status"] == "PENDING"
        assert answer["correlation"] is not None, name  # exposed to the page
        if "traceparent" in headers:
            assert answer["correlation"] == TRACE
    assert page.evaluate(SUBSCRIBE, api.replace("http://", "ws://")) == "connection_ack"


def test_an_unlisted_origin_is_refused_over_http_and_over_websocket(
    browser: Browser, api: str, origins: tuple[Pages, Pages]
) -> None:
    page = open_page(browser, origins[1].origin)
    answer = mutate(page, api, CLIENT_HEADERS, "CORS-NO")
    assert "Failed to fetch" in answer.get("failed", ""), answer
    refused = page.evaluate(SUBSCRIBE, api.replace("http://", "ws://"))
    assert refused == "closed 1006"  # refused at the upgrade: the page never saw a WebSocket open


def test_the_apis_own_origin_and_clients_without_an_origin_still_open_websockets(
    browser: Browser, api: str
) -> None:
    own = browser.new_page()
    own.goto(api.removesuffix("/graphql") + "/healthz")
    assert own.evaluate(SUBSCRIBE, api.replace("http://", "ws://")) == "connection_ack"
