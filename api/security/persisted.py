"""Persisted documents: the Automatic Persisted Queries protocol that Apollo Client and urql
speak, and an opt-in trusted-documents mode in which only a manifest's documents run.

A request names a document by `extensions.persistedQuery = {version: 1, sha256Hash}`, with or
without its text. Without trusted documents, a text whose hash matches is remembered (a bounded
cache per API process, and for an hour in the broker's Redis, so that every API host finds it)
and later found by its hash alone; an unknown hash answers `PersistedQueryNotFound`, and the
client sends the text again. With `EVENTSHOP_TRUSTED_DOCUMENTS`
(an Apollo persisted-query manifest, or a JSON object of hash → document), only the manifest's
documents run, named by hash or sent in full; nothing is learned from requests.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from api.graphql.errors import Refused
from api.security.shared_documents import SharedDocuments
from store.settings import SettingsError

NOT_FOUND = "PersistedQueryNotFound"
CACHE_ENTRIES = 1000
CACHE_BYTES = 16 * 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class Documents:
    def __init__(self, manifest: Path | None, shared: SharedDocuments | None = None) -> None:
        self._trusted = None if manifest is None else load_manifest(manifest)
        self._shared = None if self._trusted is not None else shared
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cached_bytes = 0

    async def resolve(self, query: Any, extensions: Any) -> Any:
        """`query`, with what other API hosts learned: a hash this process has not seen is looked
        up in the shared store (`share` adds to it)."""
        try:
            found = self.query(query, extensions)
        except Refused as refused:
            if refused.code != "PERSISTED_QUERY_NOT_FOUND" or self._shared is None:
                raise
            wanted = _hash(extensions["persistedQuery"])
            text = await self._shared.get(wanted)
            if text is None or digest(text) != wanted:
                raise
            self._remember(wanted, text)
            return text
        return found

    async def share(self, query: str, extensions: Any) -> None:
        """Let the other API hosts find a document registered here, once it has parsed and passed
        the limits (so a flood of junk cannot spend the shared budget)."""
        if self._shared is not None and isinstance(extensions, dict) and "persistedQuery" in extensions:
            await self._shared.put(digest(query), query)

    def query(self, query: Any, extensions: Any) -> Any:
        """The document text the request runs (`query` itself when it names no persisted one);
        raises Refused when it may not run or is not known here."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if self._trusted is not None and isinstance(query, str) and digest(query) not in self._trusted:
                raise _not_in_list()
            return query
        wanted = _hash(persisted)
        if isinstance(query, str):
            if digest(query) != wanted:
                raise Refused(400, "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH")
            if self._trusted is None:
                self._remember(wanted, query)
            elif wanted not in self._trusted:
                raise _not_in_list()
            return query
        if self._trusted is not None:
            if wanted not in self._trusted:
                raise _not_in_list()
            return self._trusted[wanted]
        if wanted not in self._cache:
            raise Refused(200, NOT_FOUND, "PERSISTED_QUERY_NOT_FOUND")
        self._cache.move_to_end(wanted)
        return self._cache[wanted]

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.close()

    def _remember(self, key: str, document: str) -> None:
        if key in self._cache or len(document) > CACHE_BYTES // 16:
            return
        self._cache[key] = document
        self._cached_bytes += len(document)
        while len(self._cache) > CACHE_ENTRIES or self._cached_bytes > CACHE_BYTES:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= len(dropped)


def _hash(persisted: Any) -> str:
    if (
        not isinstance(persisted, dict)
        or persisted.get("version") != 1
        or not isinstance(persisted.get("sha256Hash"), str)
        or not SHA256.match(persisted["sha256Hash"])
    ):
        message = "extensions.persistedQuery must be {version: 1, sha256Hash: <64 lowercase hex digits>}"
        raise Refused(400, message, "BAD_REQUEST")
    return str(persisted["sha256Hash"])


def _not_in_list() -> Refused:
    return Refused(400, "only trusted documents run on this server", "PERSISTED_QUERY_NOT_IN_LIST")


def load_manifest(path: Path) -> dict[str, str]:
    """Hash → document from an Apollo persisted-query manifest or a plain JSON object; every
    hash must be its document's SHA-256."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SettingsError(
            f"EVENTSHOP_TRUSTED_DOCUMENTS {path} is not a readable JSON file: {error}"
        ) from None
    if isinstance(found, dict) and isinstance(found.get("operations"), list):
        pairs = [(op.get("id"), op.get("body")) for op in found["operations"] if isinstance(op, dict)]
    elif isinstance(found, dict):
        pairs = list(found.items())
    else:
        pairs = []
    documents = {key: body for key, body in pairs if isinstance(key, str) and isinstance(body, str)}
    wrong = [key for key, body in documents.items() if digest(body) != key.removeprefix("sha256:")]
    if not documents or wrong or len(documents) != len(pairs):
        raise SettingsError(
            f"EVENTSHOP_TRUSTED_DOCUMENTS {path}: expected hash → document pairs whose hashes are the"
            f" documents' SHA-256 ({len(wrong)} do not match)"
        )
    return {key.removeprefix("sha256:"): body for key, body in documents.items()}
