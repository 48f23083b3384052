"""Signing keys and tokens for a developer: the data folder's secret, and minting JWTs with it."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from store.settings import Settings

SECRET_FILE = "jwt-secret"
DEFAULT_TTL = timedelta(hours=12)


def development_secret(data_dir: Path, create: bool = False) -> str | None:
    """The HS256 secret kept in the data folder (created, readable by its owner only, if asked)."""
    path = data_dir / SECRET_FILE
    if create and not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip() if path.exists() else None


def signing_secret(config: Settings, create: bool = False) -> str | None:
    """The secret tokens are signed with: EVENTSHOP_JWT_SECRET, or with no key configured at all,
    the data folder's development secret. None when keys are public ones (an identity provider
    signs the tokens)."""
    if config.auth.jwt_secret:
        return config.auth.jwt_secret
    if config.auth.keys_configured:
        return None
    return development_secret(config.data_dir, create)


def mint(
    config: Settings, secret: str, subject: str, roles: tuple[str, ...], ttl: timedelta = DEFAULT_TTL
) -> str:
    """An HS256 token for `subject` with `roles`, for the configured issuer and audience."""
    at = datetime.now(UTC)
    claims = {
        "sub": subject,
        "roles": list(roles),
        "iss": config.auth.issuer,
        "aud": config.auth.audience,
        "iat": at,
        "nbf": at,
        "exp": at + ttl,
    }
    return jwt.encode(claims, secret.encode(), algorithm="HS256")
