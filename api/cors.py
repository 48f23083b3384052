"""Cross-origin requests from browsers: only the origins `EVENTSHOP_CORS_ORIGINS` lists (`*` for
any) may call the API from a web page; with none listed, browsers keep pages of other origins out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Accept"
EXPOSED_HEADERS = "Retry-After, WWW-Authenticate"
MAX_AGE = "600"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def middleware(origins: tuple[str, ...]) -> Middleware:
    def allowed(origin: str | None) -> bool:
        return origin is not None and ("*" in origins or origin in origins)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not allowed(origin):
                return web.Response(status=403, text="origin not allowed")
            response: web.StreamResponse = web.Response(status=204)
            response.headers.update(
                {
                    "Access-Control-Allow-Methods": ALLOWED_METHODS,
                    "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                    "Access-Control-Max-Age": MAX_AGE,
                }
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                response = error
        if not response.prepared:  # a WebSocket's headers are sent already
            response.headers.setdefault("Vary", "Origin")
            if allowed(origin):
                response.headers["Access-Control-Allow-Origin"] = origin or ""
                response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if isinstance(response, web.HTTPException):
            raise response
        return response

    return cors
