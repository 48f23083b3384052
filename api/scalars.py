"""The JSON scalar: any JSON value, passed through as it is."""

from __future__ import annotations

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

from api.schema_name import SCHEMA_NAME


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
