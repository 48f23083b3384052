"""The error coercer: client errors shown, request errors coded, internal text never shown."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tartiflette import TartifletteError

from api.graphql import engine as engines
from api.graphql.errors import ConflictError, UserInputError, error_coercer


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


CREATE = "mutation($in: CreateProductInput!) { createProduct(input: $in) { status } }"
PRICE = {"amount": 1, "currency": "EUR"}


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            "query($id: ID!) { product(id: $id) { id } }",
            {"id": {"a": "x" * 1_000_000}},
            "Variable < $id > got invalid value; Expected type < ID >.",
        ),
        (
            CREATE,
            {"in": {"sku": ["x" * 1_000_000], "name": "n", "price": PRICE}},
            "Variable < $in > got invalid value; Expected type < String > at value.sku.",
        ),
        (
            CREATE,
            {"in": {"x" * 1_000_000: 1, "sku": "A", "name": "n", "price": PRICE}},
            "Variable < $in > got invalid value.",
        ),
        (
            "query($t: [String!]) { events(types: $t) { edges { cursor } } }",
            {"t": ["x" * 1_000_000, None]},
            "Variable < $t > got invalid value;"
            " Expected non-nullable type < String! > not to be null at value[1].",
        ),
    ],
    ids=["a megabyte for an ID", "a list for a String", "a megabyte-long field name", "a null in a list"],
)
def test_a_wrongly_typed_variable_is_named_with_its_path_and_type_never_echoed(
    query: str, variables: dict[str, Any], message: str
) -> None:
    async def run() -> dict[str, Any]:
        engine = await engines.engine()
        result: dict[str, Any] = await engine.execute(query, variables=variables, context={})
        return result

    [error] = asyncio.run(run())["errors"]
    assert (error["message"], error["extensions"]) == (message, {"code": "BAD_USER_INPUT"})
