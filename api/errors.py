"""Errors a client may see, and the coercer that hides every other exception's text."""

from __future__ import annotations

import logging
from typing import Any

from tartiflette import TartifletteError
from tartiflette.types.exceptions.tartiflette import CoercionError

log = logging.getLogger(__name__)


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
        error["extensions"] = {"code": "BAD_USER_INPUT"}
    elif isinstance(exception, TartifletteError) and original is None:
        error["extensions"] = {"code": "GRAPHQL_VALIDATION_FAILED"}
    else:
        log.error("internal error", exc_info=original or exception)
        error["message"] = "Internal server error"
        error["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
    return error
