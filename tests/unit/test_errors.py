"""The error coercer: client errors shown, request errors coded, internal text never shown."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import TartifletteError

from api.errors import ConflictError, UserInputError, error_coercer


def coerce(exception: Exception) -> dict[str, Any]:
    return asyncio.run(error_coercer(exception, {"message": str(exception), "path": ["x"]}))


def wrapped(original: Exception) -> TartifletteError:
    return TartifletteError(str(original), original_error=original)


def test_internal_exception_text_is_replaced() -> None:
    error = coerce(wrapped(RuntimeError("password=hunter2 at db.internal:5432")))
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(error)


def test_an_exception_outside_tartiflette_is_masked_too() -> None:
    error = coerce(KeyError("secret"))
    assert "secret" not in str(error)
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


def test_client_errors_keep_their_message_and_code() -> None:
    assert coerce(wrapped(UserInputError("sku is bad")))["extensions"] == {"code": "BAD_USER_INPUT"}
    conflict = coerce(wrapped(ConflictError("id reused")))
    assert (conflict["message"], conflict["extensions"]) == ("id reused", {"code": "CONFLICT"})


def test_graphql_request_errors_are_shown_with_a_code() -> None:
    error = coerce(TartifletteError("Field nope doesn't exist on Query"))
    assert error["message"] == "Field nope doesn't exist on Query"
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
