"""The scalars: JSON (any JSON value, passed through as it is) and DateTime (ISO-8601)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tartiflette import Scalar
from tartiflette.constants import UNDEFINED_VALUE
from tartiflette.language.ast import (
    BooleanValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
)

from api.graphql.schema_name import SCHEMA_NAME


@Scalar("JSON", schema_name=SCHEMA_NAME)
class JSONScalar:
    @staticmethod
    def coerce_output(value: Any) -> Any:
        return value

    @staticmethod
    def coerce_input(value: Any) -> Any:
        return value

    @staticmethod
    def parse_literal(ast: Any) -> Any:
        if isinstance(ast, NullValueNode):
            return None
        if isinstance(ast, StringValueNode | BooleanValueNode):
            return ast.value
        if isinstance(ast, IntValueNode):
            return int(ast.value)
        if isinstance(ast, FloatValueNode):
            return float(ast.value)
        if isinstance(ast, ListValueNode):
            return [JSONScalar.parse_literal(item) for item in ast.values]
        if isinstance(ast, ObjectValueNode):
            return {field.name.value: JSONScalar.parse_literal(field.value) for field in ast.fields}
        return UNDEFINED_VALUE


@Scalar("DateTime", schema_name=SCHEMA_NAME)
class DateTimeScalar:
    """ISO-8601 with a UTC offset out; in, any ISO-8601 date and time (with `Z` or an offset,
    fractions of a second allowed; without an offset it is taken as UTC), so what the API gives
    out can be given back, e.g. as `asOf`."""

    @staticmethod
    def coerce_output(value: datetime) -> str:
        return value.isoformat()

    @staticmethod
    def coerce_input(value: Any) -> datetime:
        if not isinstance(value, str):
            raise TypeError("DateTime must be an ISO-8601 string")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise TypeError(f"DateTime cannot represent {value[:40]!r}") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    @staticmethod
    def parse_literal(ast: Any) -> Any:
        if not isinstance(ast, StringValueNode):
            return UNDEFINED_VALUE
        try:
            return DateTimeScalar.coerce_input(ast.value)
        except TypeError:
            return UNDEFINED_VALUE
