"""GraphQL over WebSocket on `/graphql`: the graphql-transport-ws protocol of the `graphql-ws` library.

The client opens with `connection_init` and the server acknowledges; then each `subscribe` runs
one operation (a subscription sends `next` per result; a query or mutation sends one), ended by
`complete` from either side. `ping` is answered with `pong`. Protocol violations close the socket
with the protocol's codes; a client that reads too slowly is closed with 1013 (try again later),
and may resume from the last position it saw.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from socket import SO_SNDBUF, SOL_SOCKET
from typing import Any

from aiohttp import WSMsgType, web
from tartiflette import Engine

from api.graphql import engine as engines
from api.graphql import source
from api.graphql.errors import ClientError, Refused
from api.keys import ENGINE, GATE, SETTINGS
from api.read import replicas
from api.security import limits
from api.security.gate import Gate
from store.actor import Actor

log = logging.getLogger(__name__)

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT = 3.0
MAX_MESSAGE = 1024 * 1024
SEND_BUFFER = 128 * 1024  # bytes the kernel may hold for one client: a stalled one is found soon
TOO_SLOW = 1013
MAX_OPERATIONS = 100  # running at once on one connection

BAD_REQUEST = 4400  # the graphql-transport-ws close codes; 4403 also when the token expires
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT_CODE = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INITS = 4429


OPEN = web.AppKey("websockets", set[web.WebSocketResponse])
GOING_AWAY = 1001


async def close_all(app: web.Application) -> None:
    """At shutdown: close every open WebSocket, so clients reconnect elsewhere at once."""
    sockets: set[web.WebSocketResponse] = app[OPEN]
    for socket in list(sockets):
        await socket.close(code=GOING_AWAY, message=b"server shutting down")


def _credential(payload: dict[str, Any]) -> str | None:
    """The credential a `connection_init` payload carries, as an Authorization header value: under
    `Authorization` / `authorization` (e.g. "Bearer …"), or bare under `token`."""
    for key in ("Authorization", "authorization"):
        if isinstance(payload.get(key), str):
            return str(payload[key])
    token = payload.get("token")
    return f"Bearer {token}" if isinstance(token, str) else None


def requested_protocols(request: web.Request) -> list[str]:
    header = request.headers.get("Sec-WebSocket-Protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


async def serve(request: web.Request, context: dict[str, Any], address: str) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(protocols=(PROTOCOL,), max_msg_size=MAX_MESSAGE)
    await socket.prepare(request)
    raw = request.transport.get_extra_info("socket") if request.transport is not None else None
    if raw is not None:
        raw.setsockopt(SOL_SOCKET, SO_SNDBUF, SEND_BUFFER)
    if PROTOCOL not in requested_protocols(request):
        await socket.close(code=SUBPROTOCOL_NOT_ACCEPTABLE, message=b"Subprotocol not acceptable")
        return socket
    request.app[OPEN].add(socket)
    try:
        app = request.app
        await Connection(request, socket, app[ENGINE], app[GATE], context, address).run()
    finally:
        request.app[OPEN].discard(socket)
    return socket


class Connection:
    def __init__(
        self,
        request: web.Request,
        socket: web.WebSocketResponse,
        engine: Engine,
        gate: Gate,
        context: dict[str, Any],
        address: str,
    ) -> None:
        self._settings = request.app[SETTINGS]
        self._transport = request.transport
        self._gate = gate
        self._authorization = request.headers.get("Authorization")
        self._address = address
        self._expiry: asyncio.TimerHandle | None = None
        self._actor: Actor | None = None
        self._socket = socket
        self._background: set[asyncio.Task[None]] = set()
        self._engine = engine
        self._context = {**context, "on_too_slow": self._too_slow}
        self._acknowledged = False
        self._initialised = False
        self._operations: dict[str, asyncio.Task[None]] = {}
        self._sending = asyncio.Lock()

    async def run(self) -> None:
        timer = asyncio.get_running_loop().call_later(INIT_TIMEOUT, self._init_timed_out)
        try:
            async for message in self._socket:
                if message.type != WSMsgType.TEXT:
                    await self._close(BAD_REQUEST, "Only text messages are accepted")
                    break
                await self._receive(message.data)
        finally:
            timer.cancel()
            if self._expiry is not None:
                self._expiry.cancel()
            for task in self._operations.values():
                task.cancel()

    async def _receive(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            await self._close(BAD_REQUEST, "Invalid message received: not JSON")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "connection_init":
            await self._init(message)
        elif kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete" and isinstance(message.get("id"), str):
            if task := self._operations.pop(message["id"], None):
                task.cancel()
        else:
            await self._close(BAD_REQUEST, "Invalid message received")

    async def _init(self, message: dict[str, Any]) -> None:
        if self._initialised:
            await self._close(TOO_MANY_INITS, "Too many initialisation requests")
            return
        self._initialised = True
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self._close(BAD_REQUEST, "Invalid message received: payload must be an object")
            return
        try:
            self._actor = await self._gate.actor(_credential(payload or {}) or self._authorization)
        except Refused as refused:
            await self._close(FORBIDDEN, f"Forbidden: {refused}")
            return
        self._acknowledged = True
        if self._actor is not None and self._actor.expires is not None:
            left = self._actor.expires + self._settings.auth.leeway - time.time()
            self._expiry = asyncio.get_running_loop().call_later(max(left, 0), self._token_expired)
        await self._send({"type": "connection_ack"})

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if not self._acknowledged:
            await self._close(UNAUTHORIZED, "Unauthorized")
            return
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            await self._close(BAD_REQUEST, "Invalid message received: subscribe needs an id and a payload")
            return
        query, variables, name = payload.get("query"), payload.get("variables"), payload.get("operationName")
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(name, str | None)
        ):
            await self._close(BAD_REQUEST, "Invalid message received: query, variables or operationName")
            return
        if operation_id in self._operations:
            await self._close(SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists")
            return
        if len(self._operations) >= MAX_OPERATIONS:
            refusal = f"at most {MAX_OPERATIONS} operations may run at once on one connection"
            payload = [{"message": refusal, "extensions": {"code": "TOO_MANY_OPERATIONS"}}]
            await self._send({"id": operation_id, "type": "error", "payload": payload})
            return
        try:
            self._check(query, name, variables)
        except Refused as refused:
            payload = [{"message": str(refused), "extensions": {"code": refused.code}}]
            await self._send({"id": operation_id, "type": "error", "payload": payload})
            return
        task = asyncio.create_task(self._operate(operation_id, query, name, variables))
        self._operations[operation_id] = task

    def _check(self, query: str, name: str | None, variables: dict[str, Any] | None) -> None:
        """The request limits, as over HTTP (`api.security.limits`): a refusal raises `Refused`."""
        config = self._settings.limits
        limits.check_text(query, config)
        limits.check_variables(variables, config)
        try:
            prepared = source.prepare(query)
        except source.SourceError:
            return  # `_errors` answers it
        engines.parse(self._engine, prepared, limits.document_check(self._settings, name, variables))

    async def _operate(
        self, operation_id: str, query: str, name: str | None, variables: dict[str, Any] | None
    ) -> None:
        replicas.anew()  # a task of its own: what one operation requires of replicas stays with it
        try:
            errors = await self._errors(query, name, variables)
            if errors:
                await self._send({"id": operation_id, "type": "error", "payload": errors})
                return
            document, _ = engines.parse(self._engine, source.prepare(query))
            kind = engines.operation_type(document, name)
            mutations = engines.root_fields(document, name) if kind == "mutation" else 0
            context = await self._admit(kind, mutations)
            if context is None:
                return
            if kind == "subscription":
                async for result in self._engine.subscribe(
                    query, operation_name=name, context=context, variables=variables
                ):
                    await self._send({"id": operation_id, "type": "next", "payload": result})
            else:
                result = await self._engine.execute(
                    query, operation_name=name, context=context, variables=variables
                )
                await self._send({"id": operation_id, "type": "next", "payload": result})
            await self._send({"id": operation_id, "type": "complete"})
        except (ClientError, Refused) as error:
            payload = [{"message": str(error), "extensions": {"code": error.code}}]
            await self._send({"id": operation_id, "type": "error", "payload": payload})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription %s failed", operation_id)
            payload = [{"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
            await self._send({"id": operation_id, "type": "error", "payload": payload})
        finally:
            self._operations.pop(operation_id, None)

    async def _admit(self, kind: str | None, mutations: int) -> dict[str, Any] | None:
        """The context the operation runs in, or None once an unauthenticated connection was closed
        for asking what needs a credential. Any other refusal is raised for this operation alone."""
        try:
            actor = await self._gate.admit(self._actor, kind, mutations, self._address)
        except Refused as refused:
            if refused.status != 401:
                raise
            self._in_background(self._close(UNAUTHORIZED, f"Unauthorized: {refused}"))
            return None
        return {**self._context, "actor": actor, "correlation_id": uuid.uuid4().hex}  # one per operation

    async def _errors(self, query: str, name: str | None, variables: dict[str, Any] | None) -> Any:
        """The request's parse or validation errors, formatted as over HTTP; None when it is valid."""
        try:
            prepared = source.prepare(query)
        except source.SourceError as error:
            return [{"message": str(error), "extensions": {"code": "BAD_REQUEST"}}]
        _document, errors = engines.parse(self._engine, prepared)
        if not errors:
            return None
        result = await self._engine.execute(prepared, operation_name=name, variables=variables)
        return result.get("errors") or [{"message": "invalid request"}]

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._sending:
            if not self._socket.closed:
                await self._socket.send_str(json.dumps(message))

    async def _close(self, code: int, reason: str) -> None:
        for task in self._operations.values():
            task.cancel()
        await self._socket.close(code=code, message=reason.encode()[:123])

    def _in_background(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _init_timed_out(self) -> None:
        if not self._initialised:
            self._in_background(self._close(INIT_TIMEOUT_CODE, "Connection initialisation timeout"))

    def _token_expired(self) -> None:
        """The connection's JWT is no longer accepted: close with 4403, on which graphql-ws clients
        reconnect, with a fresh token where `connectionParams` is a function."""
        self._in_background(self._close(FORBIDDEN, "Forbidden: the token has expired"))

    def _too_slow(self) -> None:
        """A subscription's buffer overflowed: close the connection, without waiting on the client."""
        for task in self._operations.values():
            task.cancel()
        self._in_background(self._close_or_abort(TOO_SLOW, "too slow: events piled up unread"))

    async def _close_or_abort(self, code: int, reason: str) -> None:
        """Close with `code`; a client that reads nothing cannot take the close frame either, so
        after a moment its connection is dropped."""
        try:
            await asyncio.wait_for(self._socket.close(code=code, message=reason.encode()), 2)
        except Exception:
            if self._transport is not None:
                self._transport.abort()
