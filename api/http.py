"""GraphQL over HTTP: POST and GET on one endpoint, per the GraphQL-over-HTTP specification; a
WebSocket upgrade on it is served by `api.ws`."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from tartiflette import Engine

from api import engine as engines
from api import source, ws
from api.commands import Submitter
from api.gate import Gate, Refused
from api.watch import Watcher
from store.actor import ANONYMOUS, Actor
from store.settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
ENGINE = web.AppKey("engine", Engine)
SUBMITTER = web.AppKey("submitter", Submitter)
SETTINGS = web.AppKey("settings", Settings)
WATCHER = web.AppKey("watcher", Watcher)
GATE = web.AppKey("gate", Gate)


class RequestError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _media_type(accept: str) -> str | None:
    """The response type for an Accept header (none given means JSON), or None if neither is acceptable."""
    accepted = {part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()}
    if not accepted:
        return JSON
    if GRAPHQL_RESPONSE in accepted:
        return GRAPHQL_RESPONSE
    if accepted & {JSON, "application/*", "*/*"}:
        return JSON
    return None


async def _params(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query)
        for key in ("variables", "extensions"):
            if params.get(key):
                params[key] = _loads(params[key], key)
        return params
    if request.content_type != JSON:
        raise RequestError(415, "Content-Type must be application/json")
    try:
        raw = await request.read()
    except RequestPayloadError:
        raise RequestError(400, "the body could not be read (does it match its Content-Encoding?)") from None
    body = _loads(raw, "body")
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object")
    return body


def _loads(raw: str | bytes, what: str) -> Any:
    try:
        value = json.loads(raw)
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeError:
        raise RequestError(400, f"the {what} holds text that is not valid Unicode") from None
    except (ValueError, RecursionError):
        raise RequestError(400, f"the {what} is not valid JSON") from None
    return value


def _check(params: dict[str, Any]) -> tuple[str, str | None, dict[str, Any] | None]:
    query, name, variables = params.get("query"), params.get("operationName"), params.get("variables")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, "query must be a non-empty string")
    if name is not None and not isinstance(name, str):
        raise RequestError(400, "operationName must be a string")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "variables must be a JSON object")
    if params.get("extensions") is not None and not isinstance(params["extensions"], dict):
        raise RequestError(400, "extensions must be a JSON object")
    try:
        return source.prepare(query), name, variables
    except source.SourceError as error:
        raise RequestError(400, str(error)) from None


def context(app: web.Application, actor: Actor) -> dict[str, Any]:
    """What resolvers get: who is asking, and the process's submitter, watcher and settings."""
    return {
        "actor": actor,
        "commands": app[SUBMITTER],
        "database": app[SETTINGS].database_url,
        "watcher": app[WATCHER],
        "wait_timeout": app[SETTINGS].wait_timeout,
    }


def _refusal(error: RequestError | Refused, media: str) -> web.Response:
    found: dict[str, Any] = {"message": str(error)}
    if isinstance(error, Refused):
        found["extensions"] = {"code": error.code}
    body = {"errors": [found]}
    return web.json_response(body, status=error.status, headers=error.headers, content_type=media)


async def graphql(request: web.Request) -> web.StreamResponse:
    if request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket":
        app = request.app
        return await ws.serve(request, app[ENGINE], app[GATE], context(app, ANONYMOUS))
    media = _media_type(request.headers.get("Accept", ""))
    gate = request.app[GATE]
    try:
        if media is None:
            raise RequestError(406, f"Accept must allow {GRAPHQL_RESPONSE} or {JSON}")
        actor = await gate.actor(request.headers.get("Authorization"))
        query, name, variables = _check(await _params(request))
    except (RequestError, Refused) as error:
        return _refusal(error, media or JSON)
    engine = request.app[ENGINE]
    document, errors = engines.parse(engine, query)
    operation = None if errors else engines.operation_type(document, name)
    if request.method == "GET" and operation == "mutation":
        body = {"errors": [{"message": "mutations must be sent with POST"}]}
        return web.json_response(body, status=405, headers={"Allow": "POST"}, content_type=media)
    if operation == "subscription":
        message = f"subscriptions are served over WebSocket ({ws.PROTOCOL}) on this path"
        return web.json_response({"errors": [{"message": message}]}, status=400, content_type=media)
    try:
        mutations = engines.root_fields(document, name) if operation == "mutation" else 0
        actor = await gate.admit(actor, operation, mutations, request.remote or "")
    except Refused as error:
        return _refusal(error, media)
    result = await engine.execute(
        query, operation_name=name, context=context(request.app, actor), variables=variables
    )
    request_error = bool(errors) or (
        result.get("data") is None and all(e.get("path") is None for e in result.get("errors") or [])
    )
    if request_error and media == GRAPHQL_RESPONSE:
        return web.json_response({"errors": result.get("errors", [])}, status=400, content_type=media)
    return web.json_response(result, content_type=media)
