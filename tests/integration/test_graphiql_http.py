"""GraphiQL's page, its files and the landing page over HTTP; none of GraphiQL in production."""

from __future__ import annotations

import gzip
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.http import graphiql
from store import personal, settings
from tests.served import served

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
STATIC = Path(graphiql.__file__).parent / "static" / "graphiql"


def call(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def serve(database: str, broker: str, **extra: str) -> Iterator[str]:
    """The base URL (no path) of the API app with the environment plus `extra`."""
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker}
    env.pop("EVENTSHOP_ENV", None)
    env.update(extra)
    with served(settings.load(env)) as url:
        yield url.removesuffix("/graphql")


@pytest.fixture
def api(database: str, broker: str) -> Iterator[str]:
    yield from serve(database, broker)


@pytest.fixture
def production(database: str, broker: str) -> Iterator[str]:
    yield from serve(
        database, broker, EVENTSHOP_ENV="production", EVENTSHOP_MASTER_KEY=personal.new_master_key()
    )


def test_a_browser_gets_graphiql_whose_files_the_api_serves(api: str) -> None:
    status, headers, body = call(api + "/graphql", {"Accept": BROWSER})
    page = body.decode()
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Security-Policy" in headers and headers["Cache-Control"] == "no-store"
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere
    files = re.findall(r'(?:src|href)="(static/graphiql/[^"]+)"', page)
    assert len(files) == 5  # React, ReactDOM, GraphiQL, its CSS and eventshop's script
    for path in files:
        status, headers, body = call(f"{api}/{path}")
        assert status == 200, path
        assert headers["Cache-Control"] == graphiql.FOREVER  # the URL names the content's hash
        assert headers["X-Content-Type-Options"] == "nosniff"
        name = path.split("?")[0].removeprefix("static/graphiql/")
        assert body == (STATIC / name).read_bytes()
        expected = "text/css" if name.endswith(".css") else "text/javascript"
        assert headers["Content-Type"] == f"{expected}; charset=utf-8"


def test_static_files_are_gzipped_cached_and_only_those_in_the_folder(api: str) -> None:
    status, headers, body = call(api + "/static/graphiql/graphiql.min.js", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (STATIC / "graphiql.min.js").read_bytes()
    assert headers["Cache-Control"] == "no-cache"  # without the ?v= of the page, revalidate
    assert call(api + "/static/graphiql/graphiql.min.js", {"If-None-Match": headers["ETag"]})[0] == 304
    status, headers, body = call(api + "/static/graphiql/licenses/react.txt")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8" and b"MIT" in body
    for missing in ("nope.js", "", "licenses/", "licenses", "..%2Fgraphiql.py", "%2E%2E/%2E%2E/app.py"):
        assert call(f"{api}/static/graphiql/{missing}")[0] == 404, missing


def test_only_a_browser_get_without_a_query_gets_graphiql(api: str) -> None:
    status, headers, body = call(api + "/graphql", {"Accept": "application/json"})
    assert (status, headers["Content-Type"]) == (400, "application/json; charset=utf-8")
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    status, headers, body = call(api + "/graphql?query=%7B__typename%7D", {"Accept": BROWSER})
    assert (status, json.loads(body)) == (200, {"data": {"__typename": "Query"}})
    for accept in ("*/*", "application/json, text/html", "text/html;q=0.5, application/json", ""):
        assert call(api + "/graphql", {"Accept": accept})[0] == 400, accept


def test_the_landing_page_links_graphiql_metrics_and_health(api: str) -> None:
    status, headers, body = call(api + "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    links = re.findall(r'href="([^"]+)"', body.decode())
    assert {"graphql", "metrics", "healthz", "readyz"} <= set(links)


def test_production_serves_no_graphiql(production: str) -> None:
    status, headers, body = call(production + "/graphql", {"Accept": BROWSER})
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert call(production + "/static/graphiql/graphiql.min.js")[0] == 404
    status, _, body = call(production + "/")
    assert status == 200 and 'href="graphql"' not in body.decode() and b"GraphiQL" not in body
    assert {"metrics", "healthz", "readyz"} <= set(re.findall(r'href="([^"]+)"', body.decode()))
