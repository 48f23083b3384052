"""GraphiQL and the landing page, served by the API itself: no file comes from anywhere else.

- `GET /graphql` from a browser (an `Accept` that prefers `text/html`, no `query` parameter)
  answers GraphiQL, except in production (`EVENTSHOP_ENV=production`), where it answers as any
  GraphQL GET does. `api.http.graphql` asks `wanted` first.
- `GET /static/graphiql/{name}` serves GraphiQL's files (`static/graphiql/`, see its VERSIONS.md):
  only the files that folder holds, never a listing, 404 in production. The pages name them with a
  hash of their content (`?v=`), so such a URL may be cached for a year.
- `GET /` links GraphiQL, the metrics and the health checks.

Every URL in the pages is relative, so they also work behind a proxy that adds a path prefix.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static" / "graphiql"
PREFIX = "/static/graphiql"
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".md": "text/markdown",
    ".txt": "text/plain",
}
FOREVER = "public, max-age=31536000, immutable"
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "eventshop-graphiql.js",
)
API_MEDIA = ("application/json", "application/graphql-response+json", "application/*", "*/*")
# What a page may load and reach: this origin only ('self' includes its ws: and wss:), nothing inline
# but styles (GraphiQL's components set some), no framing (the Headers tab may hold a token).
GRAPHIQL_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
LANDING_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    version: str  # the start of the body's SHA-256: the `?v=` of its URL, and its ETag

    @functools.cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, compresslevel=9, mtime=0)


@functools.cache
def assets() -> dict[str, Asset]:
    """Every file of `static/graphiql/`, by its path there (e.g. `licenses/react.txt`)."""
    found = {}
    for path in sorted(STATIC.rglob("*")):
        content_type = CONTENT_TYPES.get(path.suffix)
        if path.is_file() and content_type:
            body = path.read_bytes()
            version = hashlib.sha256(body).hexdigest()[:16]
            found[path.relative_to(STATIC).as_posix()] = Asset(body, content_type, version)
    return found


def prefers_html(accept: str) -> bool:
    """Whether an Accept header ranks `text/html` above every type the GraphQL endpoint answers
    with: a browser's (`text/html,…,*/*;q=0.8`) does, `*/*` or `application/json, text/html` not."""
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *parameters = part.split(";")
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        key = media.strip().lower()
        quality[key] = max(quality.get(key, 0.0), q)
    html = quality.get("text/html", 0.0)
    return html > 0 and html > max(quality.get(media, 0.0) for media in API_MEDIA)


def wanted(request: web.Request, production: bool) -> bool:
    """Whether a request to the GraphQL endpoint is a browser asking for GraphiQL."""
    return (
        not production
        and request.method == "GET"
        and "query" not in request.query
        and request.headers.get("Upgrade", "").lower() != "websocket"
        and prefers_html(request.headers.get("Accept", ""))
    )


async def page() -> web.Response:
    """GraphiQL, for the URL it is served at: it sends operations there (see eventshop-graphiql.js)."""
    files = await asyncio.to_thread(assets)

    def url(name: str) -> str:
        return f"{PREFIX[1:]}/{name}?v={files[name].version}"

    scripts = "\n".join(f'<script src="{url(name)}"></script>' for name in SCRIPTS)
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>eventshop · GraphiQL</title>
<link rel="stylesheet" href="{url("graphiql.min.css")}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript.</noscript>
{scripts}
</body>
</html>
"""
    headers = {**PAGE_HEADERS, "Content-Security-Policy": GRAPHIQL_POLICY, "Vary": "Accept"}
    return web.Response(text=html, content_type="text/html", headers=headers)


async def static(request: web.Request) -> web.StreamResponse:
    """One file of `static/graphiql/`, gzipped for a client that takes it."""
    found = (await asyncio.to_thread(assets)).get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text="no such file")
    headers = {
        "Cache-Control": FOREVER if request.query.get("v") == found.version else "no-cache",
        "ETag": f'"{found.version}"',
        "Vary": "Accept-Encoding, Origin",  # Origin: what api.cors would have set
        "X-Content-Type-Options": "nosniff",
    }
    if f'"{found.version}"' in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = found.body
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        body = await asyncio.to_thread(lambda: found.gzipped)
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers=headers, content_type=found.content_type, charset="utf-8")


LANDING = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>eventshop</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em; }}
code {{ font-size: 0.95em; }}
</style>
</head>
<body>
<h1>eventshop</h1>
<p>An event-sourced commerce backend with a GraphQL API.</p>
<ul>
{graphiql}<li><code>POST graphql</code>: the GraphQL endpoint (GraphQL over HTTP; GET for queries;
  subscriptions over WebSocket on the same path with <code>graphql-transport-ws</code>).
  Mutations need <code>Authorization: Bearer &lt;token&gt;</code>.</li>
<li><a href="metrics">Metrics</a>: Prometheus text format.</li>
<li><a href="healthz">Health</a>: 200 when the API reaches its database.</li>
<li><a href="readyz">Readiness</a>: 200 when the API may take traffic.</li>
</ul>
</body>
</html>
"""
GRAPHIQL_ITEM = (
    '<li><a href="graphql">GraphiQL</a>: explore the schema, run operations in the browser.</li>\n'
)


def add_routes(app: web.Application, production: bool) -> None:
    """`/`, and GraphiQL's files unless in production."""
    text = LANDING.format(graphiql="" if production else GRAPHIQL_ITEM)

    async def landing(_request: web.Request) -> web.Response:
        headers = {**PAGE_HEADERS, "Content-Security-Policy": LANDING_POLICY}
        return web.Response(text=text, content_type="text/html", headers=headers)

    app.router.add_get("/", landing)
    if not production:
        app.router.add_get(PREFIX + "/{name:.+}", static)
