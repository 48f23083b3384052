"""GraphiQL in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright) loads it
from the running API with every host but 127.0.0.1 out of reach, and runs operations with it.

The screenshot of the first test is kept in `test-artifacts/graphiql.png` under the repository."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.client import Client
from tests.e2e.conftest import LOCAL

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESPONSE = ".graphiql-response"


class Visit:
    """A page whose every request to a host other than 127.0.0.1 is refused and recorded, with its
    console errors, uncaught exceptions and WebSocket frames sent."""

    def __init__(self, browser: Browser) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.refused: list[str] = []
        self.requests: list[tuple[str, str, str | None]] = []  # method, URL, Authorization
        self.errors: list[str] = []
        self.frames: list[str] = []
        self.bodies: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on(
            "request", lambda r: self.requests.append((r.method, r.url, r.headers.get("authorization")))
        )
        self.page.on("request", lambda r: self.bodies.append(r.post_data or ""))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("websocket", lambda ws: ws.on("framesent", lambda f: self.frames.append(str(f))))

    def _route(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOCAL:
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def open_graphiql(self, system: Client) -> None:
        self.page.goto(system.base + "/graphql")
        self.page.wait_for_selector(QUERY_EDITOR)

    def type_into(self, editor: str, text: str) -> None:
        """Replace an editor's text by typing, as a user does (CodeMirror closes brackets and
        quotes as they are typed, and steps over them when they are typed again)."""
        self.page.locator(editor).click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(text)
        self.page.keyboard.press("Escape")  # close an autocompletion list, if one is open
        typed = self.page.evaluate(
            "(selector) => document.querySelector(selector).CodeMirror.getValue()", editor
        )
        assert typed == text

    def run(self, operation: str) -> None:
        """Type `operation` and run it. GraphiQL runs the text it parsed last, a moment after the
        text changed, so Ctrl+Enter is pressed again until the operation goes out (HTTP or WebSocket)."""
        self.type_into(QUERY_EDITOR, operation)
        sent = json.dumps(operation)[1:-1]  # as it appears in a JSON body or frame
        for _ in range(5):
            self.page.wait_for_timeout(500)
            self.page.keyboard.press("Control+Enter")
            for _ in range(60):  # Playwright hands over requests and frames while it waits
                if any(sent in body for body in [*self.bodies, *self.frames]):
                    return
                self.page.wait_for_timeout(50)
        raise AssertionError(f"GraphiQL never sent {operation!r}")

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:
    opened = Visit(browser)
    yield opened
    opened.close()


def test_graphiql_loads_offline_and_runs_a_query(system: Client, visit: Visit) -> None:
    visit.open_graphiql(system)
    visit.run("{ products(first: 1) { totalCount } }")
    expect(visit.page.locator(RESPONSE)).to_contain_text('"totalCount"', timeout=15_000)
    expect(visit.page.locator(RESPONSE)).not_to_contain_text('"errors"')
    visit.page.get_by_label("Show Documentation Explorer").click()  # the schema came by introspection
    expect(visit.page.locator(".graphiql-doc-explorer")).to_contain_text("ProductConnection")
    visit.page.get_by_label("Hide Documentation Explorer").click()
    ARTIFACTS.mkdir(exist_ok=True)
    visit.page.screenshot(path=ARTIFACTS / "graphiql.png")

    assert visit.refused == [], "GraphiQL asked for something outside the API"
    assert {urlsplit(url).hostname for _, url, _ in visit.requests} == {LOCAL}
    assert visit.errors == []
    loaded = {urlsplit(url).path for _, url, _ in visit.requests}
    assert {"/graphql", "/static/graphiql/graphiql.min.js", "/static/graphiql/graphiql.min.css"} <= loaded
    operations = [auth for method, url, auth in visit.requests if method == "POST"]
    assert len(operations) >= 2  # the introspection and the query
    assert operations == [None] * len(operations), "the Headers tab's placeholder was sent as a credential"


def test_the_headers_tab_carries_the_credential_over_http_and_websocket(system: Client, visit: Visit) -> None:
    product, sku = str(uuid.uuid4()), f"GQL-{uuid.uuid4().hex[:8].upper()}"
    visit.open_graphiql(system)
    visit.type_into(HEADERS_EDITOR, f'{{"Authorization": "Bearer {system.credential}"}}')
    visit.run(
        f'mutation {{ createProduct(input: {{id: "{product}", sku: "{sku}", name: "Mug", '
        'price: {amount: 1299, currency: "EUR"}}, wait: VISIBLE) { status stage } }'
    )
    expect(visit.page.locator(RESPONSE)).to_contain_text('"SUCCEEDED"', timeout=15_000)
    assert (system.product(product) or {}).get("sku") == sku

    visit.run(f'subscription {{ events(after: "0", streamId: "{product}") {{ type streamId }} }}')
    expect(visit.page.locator(RESPONSE)).to_contain_text('"ProductCreated"', timeout=15_000)
    expect(visit.page.locator(RESPONSE)).to_contain_text(product)
    init = next(frame for frame in visit.frames if '"connection_init"' in frame)
    assert f"Bearer {system.credential}" in init
    assert visit.refused == [] and visit.errors == []
