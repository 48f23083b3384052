"""GraphQL over HTTP: POST and GET on one endpoint, per the GraphQL-over-HTTP specification; a
WebSocket upgrade on it is served by `api.live.ws`."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from api.graphql import engine as engines
from api.graphql import source
from api.graphql.errors import Refused
from api.http import cors, graphiql
from api.keys import CLIENT_LABELS, ENGINE, GATE, OPERATION_LABELS, PERSISTED, SETTINGS, SUBMITTER, WATCHER
from api.live import ws
from api.read import replicas
from api.security import clients, limits
from store import metrics
from store.actor import ANONYMOUS, Actor
from store.settings import Limits

log = structlog.stdlib.get_logger(__name__)

TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


ENCODINGS = ("identity", "gzip", "deflate")  # the Content-Encodings aiohttp decodes without extras


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
        raise Refused(415, "Content-Type must be application/json")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ENCODINGS:
        message = f"Content-Encoding must be one of {', '.join(ENCODINGS)}"
        raise Refused(415, message, headers={"Accept-Encoding": ", ".join(ENCODINGS)})
    body = _loads(await _body(request, request.app[SETTINGS].limits), "body")
    if isinstance(body, list):
        message = "batches (a JSON array of requests) are not supported: send one request per POST"
        raise Refused(400, message, "BATCH_NOT_SUPPORTED")
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    return body


async def _body(request: web.Request, config: Limits) -> bytes:
    """The body, refused past `max_body` bytes (413) or when it takes over `body_timeout` (408)."""
    too_large = Refused(413, f"the body may take at most {config.max_body} bytes (EVENTSHOP_MAX_BODY)")
    if (request.content_length or 0) > config.max_body:
        raise too_large
    try:
        async with asyncio.timeout(config.body_timeout):
            return await request.read()
    except TimeoutError:
        message = f"the body did not arrive within {config.body_timeout:g} s (EVENTSHOP_BODY_TIMEOUT)"
        raise Refused(408, message) from None
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None
    except RequestPayloadError:
        raise Refused(400, "the body could not be read (does it match its Content-Encoding?)") from None


def _loads(raw: str | bytes, what: str) -> Any:
    try:
        value = json.loads(raw)
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeError:
        raise Refused(400, f"the {what} holds text that is not valid Unicode") from None
    except (ValueError, RecursionError):
        raise Refused(400, f"the {what} is not valid JSON") from None
    return value


def _check(params: dict[str, Any], config: Limits) -> tuple[str, str | None, dict[str, Any] | None]:
    """The query (prepared for the parser), operation name and variables, once their shapes and
    sizes pass (`api.security.limits`)."""
    query, name, variables = params.get("query"), params.get("operationName"), params.get("variables")
    if not isinstance(query, str) or not query.strip():
        raise Refused(400, "query must be a non-empty string")
    if name is not None and not isinstance(name, str):
        raise Refused(400, "operationName must be a string")
    if variables is not None and not isinstance(variables, dict):
        raise Refused(400, "variables must be a JSON object")
    if params.get("extensions") is not None and not isinstance(params["extensions"], dict):
        raise Refused(400, "extensions must be a JSON object")
    limits.check_text(query, config)
    limits.check_variables(variables, config)
    try:
        return source.prepare(query), name, variables
    except source.SourceError as error:
        raise Refused(400, str(error)) from None


def context(app: web.Application, actor: Actor, correlation_id: str) -> dict[str, Any]:
    """What resolvers get: who is asking, the request's correlation id, and the process's
    submitter, watcher and settings."""
    return {
        "actor": actor,
        "correlation_id": correlation_id,
        "commands": app[SUBMITTER],
        "database": app[SETTINGS].database_url,
        "watcher": app[WATCHER],
        "wait_timeout": app[SETTINGS].wait_timeout,
        "auth_required": app[SETTINGS].auth.required,
        "master_keys": app[SUBMITTER].master_keys,
    }


def correlation_id(traceparent: str | None) -> str:
    """The trace id of a W3C `traceparent` header, else a new id: it follows the request through
    the command, its events and the projections, in every log line."""
    found = TRACEPARENT.match(traceparent or "")
    if found and found.group(1) != "0" * 32:
        return found.group(1)
    return uuid.uuid4().hex


def _refusal(error: Refused, media: str) -> web.Response:
    body = {"errors": [{"message": str(error), "extensions": {"code": error.code}}]}
    response = web.json_response(body, status=error.status, headers=error.headers, content_type=media)
    if error.status == 408:
        response.force_close()  # the rest of the body may never come
    return response


NAME_LABEL_MOST = 64  # characters of an operation's name kept as a metric label


@dataclass
class Answer:
    response: web.StreamResponse
    operation: str = "unknown"  # query, mutation, subscription, or unknown when it did not parse
    outcome: str = "refused"  # ok, errors (answered with GraphQL errors) or refused (before running)
    name: str | None = None  # the operation's name, once the request named one that runs


def client_address(request: web.Request) -> str:
    """The caller's address: the peer's, or the one trusted proxies forwarded (`api.security.clients`)."""
    proxies = request.app[SETTINGS].auth.trusted_proxies
    return clients.address(request.remote, request.headers.get("X-Forwarded-For"), proxies)


async def graphql(request: web.Request) -> web.StreamResponse:
    config = request.app[SETTINGS]
    if graphiql.wanted(request, config.auth.production):  # a browser, not in production
        return await graphiql.page()
    correlation = correlation_id(request.headers.get("traceparent"))
    client, address = clients.identify(request.headers), client_address(request)
    structlog.contextvars.bind_contextvars(
        correlation_id=correlation, client_address=address, **client.log_fields()
    )
    if request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket":
        if not cors.may_open_websocket(request, config.auth.cors_origins):
            log.warning("websocket refused: origin not allowed", origin=request.headers.get("Origin"))
            raise web.HTTPForbidden(text="this origin may not open a WebSocket here (EVENTSHOP_CORS_ORIGINS)")
        return await ws.serve(request, context(request.app, ANONYMOUS, correlation), address)
    started = time.perf_counter()
    with metrics.GRAPHQL_IN_FLIGHT.track_inprogress():
        answer = await _answer(request, correlation, address)
    elapsed = time.perf_counter() - started
    label = request.app[CLIENT_LABELS].label(client.name)
    metrics.GRAPHQL_REQUESTS.labels(answer.operation, answer.outcome, label).inc()
    metrics.GRAPHQL_DURATION.labels(answer.operation).observe(elapsed)
    metrics.GRAPHQL_OPERATION_DURATION.labels(request.app[OPERATION_LABELS].label(answer.name)).observe(
        elapsed
    )
    answer.response.headers["X-Correlation-Id"] = correlation
    log.info(
        "graphql request", operation=answer.operation, outcome=answer.outcome,
        status=answer.response.status, ms=round(elapsed * 1000, 1),
    )  # fmt: skip
    return answer.response


async def _answer(request: web.Request, correlation: str, address: str) -> Answer:
    replicas.anew()
    media = _media_type(request.headers.get("Accept", ""))
    app, gate = request.app, request.app[GATE]
    try:
        if media is None:
            raise Refused(406, f"Accept must allow {GRAPHQL_RESPONSE} or {JSON}")
        actor = await gate.actor(request.headers.get("Authorization"))
        params = await _params(request)
        params["query"] = await app[PERSISTED].resolve(params.get("query"), params.get("extensions"))
        query, name, variables = _check(params, app[SETTINGS].limits)
    except Refused as error:
        return Answer(_refusal(error, media or JSON))
    engine = app[ENGINE]
    try:
        check = limits.document_check(app[SETTINGS], name, variables)
        document, errors = engines.parse(engine, query, check)
    except Refused as error:
        return Answer(_refusal(error, media))
    if not errors:
        await app[PERSISTED].share(params["query"], params.get("extensions"))
    ran = None if errors else engines.operation(document, name)
    operation = None if ran is None else str(ran.operation_type)
    kind = operation or "unknown"
    if request.method == "GET" and operation == "mutation":
        return Answer(
            _refusal(Refused(405, "mutations must be sent with POST", headers={"Allow": "POST"}), media), kind
        )
    if operation == "subscription":
        message = f"subscriptions are served over WebSocket ({ws.PROTOCOL}) on this path"
        return Answer(_refusal(Refused(400, message), media), kind)
    try:
        mutations = engines.root_fields(document, name) if operation == "mutation" else 0
        actor = await gate.admit(actor, operation, mutations, address)
    except Refused as error:
        return Answer(_refusal(error, media), kind)
    named = ran.name.value[:NAME_LABEL_MOST] if ran is not None and ran.name else None
    result = await engine.execute(
        query, operation_name=name, context=context(app, actor, correlation), variables=variables
    )
    outcome = "errors" if result.get("errors") else "ok"
    request_error = bool(errors) or (
        result.get("data") is None and all(e.get("path") is None for e in result.get("errors") or [])
    )
    if request_error and media == GRAPHQL_RESPONSE:
        body = {"errors": result.get("errors", [])}
        return Answer(web.json_response(body, status=400, content_type=media), kind, outcome, named)
    try:
        text = limits.response_text(result, app[SETTINGS].limits)
    except Refused as error:
        return Answer(_refusal(error, media), kind)
    return Answer(web.Response(text=text, content_type=media), kind, outcome, named)
