"""Browser pages on other origins: only the origins `EVENTSHOP_CORS_ORIGINS` lists (`*` for any)
may call the API from a web page or open a WebSocket to it; with none listed, browsers keep pages
of other origins out.

A listed origin's preflight allows a fixed set of request headers — what GraphQL clients and
tracing send — plus those `EVENTSHOP_CORS_HEADERS` names, rather than echoing whatever a page asks
for: the list says what the API reads, and a preflight answer depends on the origin alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "traceparent",  # W3C Trace Context: its trace id becomes the request's correlation id
    "tracestate",
    "baggage",  # W3C Baggage, sent beside traceparent by OpenTelemetry's web instrumentation
    "apollographql-client-name",  # Apollo Client's clientAwareness
    "apollographql-client-version",
    "X-Request-Id",
)
EXPOSED_HEADERS = "X-Correlation-Id, Retry-After, WWW-Authenticate"
MAX_AGE = "600"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def allowed_headers(extra: tuple[str, ...]) -> str:
    known = {header.lower() for header in ALLOWED_HEADERS}
    return ", ".join([*ALLOWED_HEADERS, *(header for header in extra if header not in known)])


def listed(origin: str | None, origins: tuple[str, ...]) -> bool:
    return origin is not None and ("*" in origins or origin in origins)


def may_open_websocket(request: web.Request, origins: tuple[str, ...]) -> bool:
    """A WebSocket upgrade without `Origin` is no browser's (servers, command-line clients) and may
    open; a browser's may from the API's own origin (GraphiQL) or a listed one. Browsers send any
    site's cookies and credentials with a WebSocket upgrade and apply no CORS to it, so without
    this check any page could use a visitor's access (cross-site WebSocket hijacking)."""
    origin = request.headers.get("Origin")
    if origin is None or listed(origin, origins):
        return True
    try:
        own = urlsplit(origin).netloc.lower() == request.host.lower()
    except ValueError:
        return False
    return own


def middleware(origins: tuple[str, ...], extra_headers: tuple[str, ...] = ()) -> Middleware:
    headers = allowed_headers(extra_headers)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not listed(origin, origins):
                return web.Response(status=403, text="origin not allowed", headers={"Vary": PREFLIGHT_VARY})
            response: web.StreamResponse = web.Response(status=204)
            response.headers.update(
                {
                    "Access-Control-Allow-Methods": ALLOWED_METHODS,
                    "Access-Control-Allow-Headers": headers,
                    "Access-Control-Max-Age": MAX_AGE,
                    "Vary": PREFLIGHT_VARY,
                }
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                response = error
        if not response.prepared:  # a WebSocket's headers are sent already
            response.headers.setdefault("Vary", "Origin")
            if listed(origin, origins):
                response.headers["Access-Control-Allow-Origin"] = origin or ""
                response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if isinstance(response, web.HTTPException):
            raise response
        return response

    return cors
