"""Introspection over HTTP as current tools send it: graphql-core's query with every option, and
the `gql` client fetching the schema (`fetch_schema_from_transport=True`) and validating queries
against it before sending them."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from graphql import GraphQLError, build_client_schema

from store import settings
from tests.introspection import QUERY, assert_serves_our_schema
from tests.served import served

EVERY_OPTION = {
    "descriptions": True,
    "specified_by_url": True,
    "directive_is_repeatable": True,
    "schema_description": True,
    "input_value_deprecation": True,
    "input_object_one_of": True,
}


def load(database: str, broker: str) -> settings.Settings:
    return settings.load({**os.environ, "DATABASE_URL": database, "BROKER_URL": broker})


def test_the_introspection_query_with_every_option_answers_over_http(database: str, broker: str) -> None:
    body = json.dumps({"query": QUERY, "operationName": "IntrospectionQuery"}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/graphql-response+json"}
    with served(load(database, broker)) as url:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            status, answer = response.status, json.load(response)
    assert status == 200 and "errors" not in answer, answer.get("errors")
    assert_serves_our_schema(build_client_schema(answer["data"]))


async def fetch_and_validate(url: str, options: dict[str, Any]) -> None:
    client = Client(
        transport=AIOHTTPTransport(url=url), fetch_schema_from_transport=True, introspection_args=options
    )
    async with client as session:
        assert client.schema is not None
        assert_serves_our_schema(client.schema)
        valid = gql("{ products(first: 1) { totalCount edges { node { sku price { amount currency } } } } }")
        client.validate(valid)
        assert await session.execute(valid) == {"products": {"totalCount": 0, "edges": []}}
        invalid = gql("{ products(first: 1) { edges { node { price { cents } } } } }")
        with pytest.raises(GraphQLError, match="Cannot query field 'cents' on type 'Money'"):
            client.validate(invalid)
        with pytest.raises(GraphQLError):  # before sending: the server's refusal is a TransportQueryError
            await session.execute(invalid)


@pytest.mark.parametrize("options", [{}, EVERY_OPTION], ids=["gql-defaults", "every-option"])
def test_the_gql_client_fetches_the_schema_and_validates_queries_locally(
    database: str, broker: str, options: dict[str, Any]
) -> None:
    with served(load(database, broker)) as url:
        asyncio.run(fetch_and_validate(url, options))
