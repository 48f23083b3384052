"""API keys for services: a random key shown once, of which only a SHA-256 hash is stored.

A key is 32 random bytes, so a fast hash is enough: nothing short of the key itself finds it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from store.schema import api_keys

PREFIX = "esk_"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"


class ApiKeyError(Exception):
    """A key cannot be created or revoked; the message says why."""


@dataclass(frozen=True)
class ApiKey:
    name: str
    roles: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(credential: str) -> bool:
    return credential.startswith(PREFIX)


def create(connection: Connection, name: str, roles: tuple[str, ...], at: datetime) -> str:
    """Store a new key under `name` and return it: the only time it is ever seen."""
    key = PREFIX + secrets.token_urlsafe(32)
    try:
        with connection.begin_nested():
            connection.execute(
                api_keys.insert().values(name=name, key_hash=digest(key), roles=list(roles), created_at=at)
            )
    except IntegrityError:
        raise ApiKeyError(f"an API key named {name!r} exists already") from None
    return key


def revoke(connection: Connection, name: str, at: datetime) -> None:
    done = connection.execute(
        update(api_keys).where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None)).values(revoked_at=at)
    )
    if done.rowcount == 0:
        raise ApiKeyError(f"no active API key named {name!r}")


def listed(connection: Connection) -> list[ApiKey]:
    rows = connection.execute(select(api_keys).order_by(api_keys.c.name))
    return [ApiKey(row.name, tuple(row.roles), row.created_at, row.revoked_at) for row in rows]


def find(connection: Connection, key: str) -> ApiKey | None:
    """The active key `key` is, or None (unknown or revoked)."""
    row = connection.execute(
        select(api_keys).where(api_keys.c.key_hash == digest(key), api_keys.c.revoked_at.is_(None))
    ).first()
    return None if row is None else ApiKey(row.name, tuple(row.roles), row.created_at, row.revoked_at)
