"""The door every operation goes through before it runs: who is asking (authentication), and
whether an anonymous caller may run it and the caller's mutation budget allows it."""

from __future__ import annotations

from api.graphql.errors import Refused
from api.security.auth import Authenticator, Unauthenticated
from api.security.rate_limit import RateLimiter, retry_after
from store.actor import ANONYMOUS, Actor
from store.settings import Settings

REALM = 'Bearer realm="eventshop"'


class Gate:
    def __init__(self, config: Settings) -> None:
        self._auth = config.auth
        self._authenticator = Authenticator(config)
        self._limiter = RateLimiter(config.broker_url, config.auth.rate_limit)

    async def actor(self, authorization: str | None) -> Actor | None:
        """Who the credential names (None without one); a bad credential is refused (401)."""
        if not self._auth.required:
            return ANONYMOUS
        try:
            return await self._authenticator.actor(authorization)
        except Unauthenticated as error:
            header = f'{REALM}, error="invalid_token", error_description="{error}"'
            raise Refused(401, str(error), "UNAUTHENTICATED", {"WWW-Authenticate": header}) from None

    async def admit(self, actor: Actor | None, operation: str | None, mutations: int, address: str) -> Actor:
        """The actor `operation` runs as, once it may run: anonymous callers only read (and only
        when reads are open), and mutations draw on the caller's rate budget."""
        if actor is None:
            if operation == "mutation" or self._auth.authenticated_reads:
                message = "this needs a credential: send Authorization: Bearer <token or API key>"
                raise Refused(401, message, "UNAUTHENTICATED", {"WWW-Authenticate": REALM})
            actor = ANONYMOUS
        if operation == "mutation":
            key = f"addr:{address}" if actor is ANONYMOUS else f"{actor.credential}:{actor.subject}"
            wait = await self._limiter.wait_needed(key, mutations)
            if wait > 0:
                message = f"too many mutations: at most {self._auth.rate_limit:g} a second; retry later"
                raise Refused(429, message, "RATE_LIMITED", {"Retry-After": retry_after(wait)})
        return actor

    async def close(self) -> None:
        await self._limiter.close()
