"""Credentials for tests: every process a test starts verifies tokens signed with `SECRET`
(`tests/conftest.py` puts it in the environment), and `token` mints them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

SECRET = "test-secret-for-eventshop-tests-only-0123456789"
ISSUER = AUDIENCE = "eventshop"


def token(subject: str = "tester", roles: Any = ("admin",), **claims: Any) -> str:
    """An HS256 token signed with `SECRET`, valid for an hour; `claims` add or replace claims
    (None removes one); `roles` other than a tuple is sent as it is."""
    at = datetime.now(UTC)
    found: dict[str, Any] = {
        "sub": subject,
        "roles": list(roles) if isinstance(roles, tuple) else roles,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": at,
        "exp": at + timedelta(hours=1),
        **claims,
    }
    return jwt.encode({k: v for k, v in found.items() if v is not None}, SECRET.encode(), algorithm="HS256")


def bearer(subject: str = "tester", roles: tuple[str, ...] = ("admin",)) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(subject, roles)}"}
