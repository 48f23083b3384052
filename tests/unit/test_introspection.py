"""Introspection as current clients send it (`api.graphql.introspection`): graphql-core's query with every
option is answered, its answer builds our SDL's schema, and every part of the schema is described."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import build_client_schema
from tartiflette import Engine

from api.graphql import engine as engines
from tests.introspection import QUERY, SPEC_SCALARS, assert_serves_our_schema


@pytest.fixture(scope="module")
def engine() -> Engine:
    return asyncio.run(engines.engine())


def run(engine: Engine, query: str) -> dict[str, Any]:
    result: dict[str, Any] = asyncio.run(engine.execute(query))
    assert "errors" not in result, result["errors"]
    return result["data"]  # type: ignore[no-any-return]


def test_the_introspection_query_with_every_option_builds_our_schema(engine: Engine) -> None:
    answer = run(engine, QUERY)
    assert answer["__schema"]["description"] is None
    assert {d["isRepeatable"] for d in answer["__schema"]["directives"]} == {False}
    assert_serves_our_schema(build_client_schema(answer))  # type: ignore[arg-type]


def test_the_added_introspection_fields_answer_for_every_kind_of_type(engine: Engine) -> None:
    answer = run(
        engine,
        """{
          order: __type(name: "ProductOrder") { isOneOf specifiedByURL
            inputFields(includeDeprecated: false) { name defaultValue isDeprecated deprecationReason } }
          query: __type(name: "Query") { isOneOf inputFields(includeDeprecated: true) { name }
            fields { name args(includeDeprecated: false) { name isDeprecated } } }
          time: __type(name: "DateTime") { specifiedByURL isOneOf inputFields { name } }
          field: __type(name: "__Field") { fields { name args { name defaultValue description } } }
        }""",
    )
    assert answer["order"] == {
        "isOneOf": False,
        "specifiedByURL": None,
        "inputFields": [
            {"name": "field", "defaultValue": None, "isDeprecated": False, "deprecationReason": None},
            {"name": "direction", "defaultValue": "ASC", "isDeprecated": False, "deprecationReason": None},
        ],
    }
    assert (answer["query"]["isOneOf"], answer["query"]["inputFields"]) == (None, None)
    products = next(f for f in answer["query"]["fields"] if f["name"] == "products")
    assert [a["name"] for a in products["args"]][:2] == ["first", "after"]
    assert answer["time"] == {"specifiedByURL": None, "isOneOf": None, "inputFields": None}
    args = next(f for f in answer["field"]["fields"] if f["name"] == "args")["args"]
    assert [(a["name"], a["defaultValue"]) for a in args] == [("includeDeprecated", "false")]


def test_every_type_field_argument_input_field_and_enum_value_is_described(engine: Engine) -> None:
    types = run(engine, QUERY)["__schema"]["types"]
    missing = []
    for kind in types:
        if kind["name"].startswith("__") or kind["name"] in SPEC_SCALARS:
            continue
        parts = [(kind["name"], kind)]
        for field in kind["fields"] or []:
            parts.append((f"{kind['name']}.{field['name']}", field))
            parts += [(f"{kind['name']}.{field['name']}({a['name']})", a) for a in field["args"]]
        parts += [(f"{kind['name']}.{f['name']}", f) for f in kind["inputFields"] or []]
        parts += [(f"{kind['name']}.{v['name']}", v) for v in kind["enumValues"] or []]
        missing += [name for name, part in parts if not (part["description"] or "").strip()]
    assert len(types) > 30 and not missing, missing
