"""The benchmarks' credential: the systems they start verify tokens signed with `SECRET`, and the
load generators send one. The rate limit is off: a benchmark is one client sending as fast as the
system takes."""

from __future__ import annotations

from api.security import auth, tokens
from store import settings

SECRET = "bench-secret-for-eventshop-benchmarks-0123456789"


def environment() -> dict[str, str]:
    return {"EVENTSHOP_JWT_SECRET": SECRET, "EVENTSHOP_RATE_LIMIT": "0"}


def headers() -> dict[str, str]:
    config = settings.load(environment())
    return {"Authorization": f"Bearer {tokens.mint(config, SECRET, 'bench', (auth.ADMIN,))}"}
