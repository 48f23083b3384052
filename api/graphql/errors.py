"""Errors a client may see, and the coercer that hides every other exception's text."""

from __future__ import annotations

import logging
import re
from typing import Any

from tartiflette import TartifletteError
from tartiflette.types.exceptions.tartiflette import CoercionError

log = logging.getLogger(__name__)

MESSAGE_MAX = 300  # characters of a coercion error that names no variable
_VARIABLE = re.compile(r"Variable < \$(\w{1,100}) > got invalid value")
_TYPE = r"< [\w!\[\]]{1,200} >"
_PROBLEM = re.compile(
    rf"(?:Expected (?:non-nullable )?type {_TYPE}(?: to be an object| not to be null)?"
    rf"|Field < [\w.\[\]]{{1,200}} > (?:of required type {_TYPE} was not provided"
    rf"|is not defined by type {_TYPE}))"
    r"(?: at value(?:\.\w{1,100}|\[\d{1,10}\]){0,50})?"
)


REFUSAL_CODES = {
    401: "UNAUTHENTICATED",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


class Refused(Exception):
    """A request refused before it ran: its HTTP status, a message for the client, a stable code
    (by default the status's, e.g. PAYLOAD_TOO_LARGE for 413, else BAD_REQUEST) and headers."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or REFUSAL_CODES.get(status, "BAD_REQUEST")
        self.headers = headers or {}


class ClientError(Exception):
    """An error meant for the client: its message and code are shown as they are."""

    code = "BAD_REQUEST"


class UserInputError(ClientError):
    code = "BAD_USER_INPUT"


class ConflictError(ClientError):
    code = "CONFLICT"


class UnavailableError(ClientError):
    code = "SERVICE_UNAVAILABLE"


class StaleReadError(ClientError):
    code = "STALE_READ"


class ForbiddenError(ClientError):
    code = "FORBIDDEN"


async def error_coercer(exception: Exception, error: dict[str, Any]) -> dict[str, Any]:
    """Show client errors and GraphQL request errors; replace anything else by a generic message."""
    original = getattr(exception, "original_error", None)
    if isinstance(original, ClientError):
        error["message"] = str(original)
        error["extensions"] = {"code": original.code}
    elif isinstance(original or exception, RecursionError):
        error["message"] = "the query is too deeply nested or too complex"
        error["extensions"] = {"code": "QUERY_TOO_COMPLEX"}
    elif isinstance(exception, CoercionError):
        error["message"] = without_value(str(error.get("message", "")))
        error["extensions"] = {"code": "BAD_USER_INPUT"}
    elif isinstance(exception, TartifletteError) and original is None:
        error["extensions"] = {"code": "GRAPHQL_VALIDATION_FAILED"}
    else:
        log.error("internal error", exc_info=original or exception)
        error["message"] = "Internal server error"
        error["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
    return error


def without_value(message: str) -> str:
    """A coercion error's message that names the variable, the path and the expected type, but
    never echoes the value given (Tartiflette's message holds it whole, twice for scalars)."""
    variable = _VARIABLE.match(message)
    if variable is None:
        return message if len(message) <= MESSAGE_MAX else message[:MESSAGE_MAX] + "…"
    problems = _PROBLEM.findall(message)
    problem = f"; {problems[-1]}" if problems else ""
    return f"Variable < ${variable.group(1)} > got invalid value{problem}."
