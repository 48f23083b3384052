"""Persisted documents: the APQ exchange (hash only, then hash and text, then hash only), and the
trusted-documents mode where nothing outside the manifest runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.graphql.errors import Refused
from api.security.persisted import CACHE_ENTRIES, Documents, digest
from store.settings import SettingsError

QUERY = "{ products(first: 1) { totalCount } }"


def persisted(document: str, version: int = 1) -> dict[str, object]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest(document)}}


def code(documents: Documents, query: object, extensions: object) -> tuple[int, str]:
    with pytest.raises(Refused) as caught:
        documents.query(query, extensions)
    return caught.value.status, caught.value.code


def test_apq_an_unknown_hash_is_not_found_then_the_text_registers_it() -> None:
    documents = Documents(None)
    assert code(documents, None, persisted(QUERY)) == (200, "PERSISTED_QUERY_NOT_FOUND")
    assert documents.query(QUERY, persisted(QUERY)) == QUERY
    assert documents.query(None, persisted(QUERY)) == QUERY
    assert documents.query(QUERY, None) == QUERY  # plain requests are untouched


def test_apq_refuses_a_hash_that_is_not_the_texts_and_a_malformed_extension() -> None:
    documents = Documents(None)
    assert code(documents, "{ __typename }", persisted(QUERY)) == (400, "PERSISTED_QUERY_HASH_MISMATCH")
    assert code(documents, None, persisted(QUERY)) == (200, "PERSISTED_QUERY_NOT_FOUND")
    for bad in (
        persisted(QUERY, version=2),
        {"persistedQuery": {"version": 1, "sha256Hash": "ABC"}},
        {"persistedQuery": "x"},
    ):
        assert code(documents, QUERY, bad) == (400, "BAD_REQUEST")


def test_apq_remembers_a_bounded_number_of_documents() -> None:
    documents = Documents(None)
    texts = [f'{{ product(id: "{n}") {{ id }} }}' for n in range(CACHE_ENTRIES + 10)]
    for text in texts:
        documents.query(text, persisted(text))
    assert documents.query(None, persisted(texts[-1])) == texts[-1]
    assert code(documents, None, persisted(texts[0]))[1] == "PERSISTED_QUERY_NOT_FOUND"


def test_trusted_documents_run_only_the_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    operations = [{"id": digest(QUERY), "body": QUERY, "name": "Count", "type": "query"}]
    manifest.write_text(
        json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations})
    )
    documents = Documents(manifest)
    assert documents.query(None, persisted(QUERY)) == QUERY
    assert documents.query(QUERY, None) == QUERY
    other = "{ __schema { types { name } } }"
    assert code(documents, other, None) == (400, "PERSISTED_QUERY_NOT_IN_LIST")
    assert code(documents, other, persisted(other)) == (400, "PERSISTED_QUERY_NOT_IN_LIST")
    assert code(documents, None, persisted(other)) == (400, "PERSISTED_QUERY_NOT_IN_LIST")


def test_a_manifest_whose_hashes_are_not_its_documents_is_refused_at_start(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({digest(QUERY): QUERY}))
    assert Documents(plain).query(None, persisted(QUERY)) == QUERY
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({digest("{ __typename }"): QUERY}))
    with pytest.raises(SettingsError):
        Documents(wrong)
    with pytest.raises(SettingsError):
        Documents(tmp_path / "missing.json")
