"""Persisted documents shared through Redis: a text registered on one API host is found by its
hash on another; a tampered entry is not trusted; large documents stay on their host."""

from __future__ import annotations

import asyncio

import redis

from api.graphql.errors import Refused
from api.security.persisted import Documents, digest
from api.security.shared_documents import KEY_PREFIX, LARGEST, SharedDocuments

QUERY = "{ products(first: 2) { totalCount } }"


def persisted(document: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest(document)}}


async def not_found(documents: Documents, document: str) -> bool:
    try:
        await documents.resolve(None, persisted(document))
    except Refused as refused:
        return refused.code == "PERSISTED_QUERY_NOT_FOUND"
    return False


def test_a_document_registered_on_one_host_is_found_on_another(broker: str) -> None:
    async def scenario() -> None:
        one, other = Documents(None, SharedDocuments(broker)), Documents(None, SharedDocuments(broker))
        assert await not_found(other, QUERY)
        assert await one.resolve(QUERY, persisted(QUERY)) == QUERY
        assert await not_found(other, QUERY)  # not shared before it has parsed
        await one.share(QUERY, persisted(QUERY))
        assert await other.resolve(None, persisted(QUERY)) == QUERY
        large = "{ __typename }" + " " * LARGEST
        assert await one.resolve(large, persisted(large)) == large
        await one.share(large, persisted(large))
        assert await not_found(other, large)  # too large to share: the other host asks for the text
        await one.close()
        await other.close()

    asyncio.run(scenario())


def test_a_tampered_shared_entry_is_not_trusted(broker: str) -> None:
    with redis.Redis.from_url(broker) as client:
        client.set(KEY_PREFIX + digest(QUERY), "{ __schema { types { name } } }")

    async def scenario() -> None:
        documents = Documents(None, SharedDocuments(broker))
        assert await not_found(documents, QUERY)
        await documents.close()

    asyncio.run(scenario())


def test_a_broker_that_does_not_answer_leaves_each_host_its_own_cache() -> None:
    async def scenario() -> None:
        documents = Documents(None, SharedDocuments("redis://127.0.0.1:1/0"))
        assert await documents.resolve(QUERY, persisted(QUERY)) == QUERY
        await documents.share(QUERY, persisted(QUERY))
        assert await documents.resolve(None, persisted(QUERY)) == QUERY
        await documents.close()

    asyncio.run(scenario())
