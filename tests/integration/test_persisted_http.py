"""Persisted documents over HTTP, as Apollo Client's and urql's APQ links send them: the hash
alone, then hash and text, then the hash alone again (also by GET); and trusted-documents mode."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from api.security.persisted import digest
from store import settings
from tests.served import served

QUERY = "{ products(first: 1) { totalCount } }"


def post(url: str, payload: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest(document)}}


def test_the_apq_exchange(database: str, broker: str) -> None:
    with served(settings.load({**os.environ, "DATABASE_URL": database, "BROKER_URL": broker})) as url:
        status, body = post(url, {"extensions": persisted(QUERY)})
        assert status == 200 and body["errors"][0]["message"] == "PersistedQueryNotFound"
        assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert post(url, {"query": QUERY, "extensions": persisted(QUERY)}) == (
            200,
            {"data": {"products": {"totalCount": 0}}},
        )
        assert post(url, {"extensions": persisted(QUERY)})[1] == {"data": {"products": {"totalCount": 0}}}
        query = urllib.parse.urlencode({"extensions": json.dumps(persisted(QUERY))})
        with urllib.request.urlopen(f"{url}?{query}", timeout=10) as response:
            assert json.loads(response.read()) == {"data": {"products": {"totalCount": 0}}}
        status, body = post(url, {"query": "{ __typename }", "extensions": persisted(QUERY)})
        assert (status, body["errors"][0]["extensions"]["code"]) == (400, "PERSISTED_QUERY_HASH_MISMATCH")


def test_trusted_documents_run_nothing_else(database: str, broker: str, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({digest(QUERY): QUERY}))
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": broker}
    with served(settings.load({**env, "EVENTSHOP_TRUSTED_DOCUMENTS": str(manifest)})) as url:
        assert post(url, {"extensions": persisted(QUERY)})[1] == {"data": {"products": {"totalCount": 0}}}
        assert post(url, {"query": QUERY})[0] == 200
        for payload in ({"query": "{ __typename }"}, {"extensions": persisted("{ __typename }")}):
            status, body = post(url, payload)
            assert (status, body["errors"][0]["extensions"]["code"]) == (400, "PERSISTED_QUERY_NOT_IN_LIST")
