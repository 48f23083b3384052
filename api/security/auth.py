"""Authentication and authorization: who a request's `Authorization: Bearer` credential says it
is, and whether its roles allow a command.

A credential is a JWT (its algorithm pinned by the configured key, so `alg: none` and algorithm
confusion are refused; signature, `exp`, `nbf`, `iss` and `aud` checked) or an API key (looked up
by hash; a revocation is seen within `KEY_CACHE_SECONDS` by every API process).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from api.graphql.errors import ForbiddenError
from api.security import tokens
from store import api_keys, db
from store.actor import API_KEY, JWT, Actor
from store.settings import Settings, SettingsError

ADMIN = "admin"
ORDERS_ADMIN = "orders:admin"  # every order and customer record, not only one's own
CUSTOMERS_ADMIN = "customers:admin"  # every customer's data (customerData), not only one's own
WRITE_ROLES = {
    "Product": "catalog:write",
    "Stock": "inventory:write",
    "Order": "orders:write",
    "Customer": "orders:write",
}
ROLES = (ADMIN, CUSTOMERS_ADMIN, ORDERS_ADMIN, *sorted(set(WRITE_ROLES.values())))
KEY_CACHE_SECONDS = 0.5
KEY_CACHE_SIZE = 10_000
TOKEN_CACHE_SIZE = 10_000
MAX_SUBJECT = 128
CURVES = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}

Key = tuple[Any, str]  # a verification key and the one algorithm it accepts


class Unauthenticated(Exception):
    """The credential is missing, malformed, or not valid; the message says which, for a client."""


def authorize(actor: Actor, stream_type: str) -> None:
    """Raise FORBIDDEN unless `actor` may submit commands to `stream_type` aggregates."""
    role = WRITE_ROLES.get(stream_type)
    if role is None:
        raise ForbiddenError(f"{stream_type} commands are issued by eventshop itself")
    allowed = {role, ADMIN} | ({ORDERS_ADMIN} if stream_type in ("Order", "Customer") else set())
    if not allowed & set(actor.roles):
        raise ForbiddenError(f"this needs the {role} role")


def order_owner(actor: Actor, auth_required: bool, admins: tuple[str, ...] = (ORDERS_ADMIN,)) -> str | None:
    """Whose orders and customer records `actor` may see and act on: its own subject's, or
    everyone's (None) for an admin, one of `admins`, and anyone when authentication is off."""
    if not auth_required or {ADMIN, *admins} & set(actor.roles):
        return None
    return actor.subject


class Authenticator:
    def __init__(self, config: Settings) -> None:
        self._config = config.auth
        self._database_url = config.database_url
        self._keys, self._default = _verification_keys(config)
        self._cache: dict[str, tuple[float, Actor | None]] = {}
        self._verified: dict[str, tuple[float, Actor]] = {}  # token -> (its exp, its actor)

    async def actor(self, authorization: str | None) -> Actor | None:
        """The actor the header names, None without one; raises Unauthenticated for a bad one."""
        if authorization is None:
            return None
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated("the Authorization header must be: Bearer <token or API key>")
        if api_keys.looks_like_key(credential):
            return await self._api_key(credential)
        return self._jwt(credential)

    def _jwt(self, token: str) -> Actor:
        """The token's actor. A token once verified is remembered until its `exp` (a JWT cannot
        be revoked), so a client sending the same token again costs a dictionary lookup."""
        known = self._verified.get(token)
        if known is not None and known[0] > time.time():
            return known[1]
        actor, expires = self._verify(token)
        if len(self._verified) >= TOKEN_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (expires, actor)
        return actor

    def _verify(self, token: str) -> tuple[Actor, float]:
        try:
            header = jwt.get_unverified_header(token)
            key, algorithm = self._key(header.get("kid"))
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._config.audience,
                issuer=self._config.issuer,
                leeway=self._config.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the token is not valid yet") from None
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
            raise Unauthenticated("the token is for another issuer or audience") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
        subject, roles = claims.get("sub"), claims.get("roles", [])
        if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT:
            raise Unauthenticated(f"the token's sub must be a string of 1 to {MAX_SUBJECT} characters")
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise Unauthenticated("the token's roles claim must be an array of strings")
        expires = float(claims["exp"])
        return Actor(subject, JWT, tuple(roles), expires), expires

    def _key(self, kid: Any) -> Key:
        if isinstance(kid, str) and kid in self._keys:
            return self._keys[kid]
        if self._default is None:
            raise jwt.InvalidKeyError("no key for this token")
        return self._default

    async def _api_key(self, key: str) -> Actor:
        digest = api_keys.digest(key)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or cached[0] < now:
            found = await asyncio.to_thread(self._find_key, key)
            actor = None if found is None else Actor(found.name, API_KEY, found.roles)
            if len(self._cache) >= KEY_CACHE_SIZE:
                self._cache.clear()
            self._cache[digest] = cached = (now + KEY_CACHE_SECONDS, actor)
        if cached[1] is None:
            raise Unauthenticated("the API key is not valid")
        return cached[1]

    def _find_key(self, key: str) -> api_keys.ApiKey | None:
        with db.reading(self._database_url) as connection:
            return api_keys.find(connection, key)


def _verification_keys(config: Settings) -> tuple[dict[str, Key], Key | None]:
    """Keys by `kid`, and the key for a token without a known `kid` (None if there is no single one)."""
    auth = config.auth
    if auth.jwks_file is not None:
        try:
            keys = jwt.PyJWKSet.from_json(auth.jwks_file.read_text()).keys
        except (OSError, ValueError, jwt.PyJWTError) as error:
            problem = f"EVENTSHOP_JWKS_FILE {auth.jwks_file} is not a readable JWKS: {error}"
            raise SettingsError(problem) from None
        by_kid = {key.key_id: (key.key, key.algorithm_name) for key in keys if key.key_id}
        default = (keys[0].key, keys[0].algorithm_name) if len(keys) == 1 else None
        return by_kid, default
    if auth.jwt_public_key is not None:
        return {}, _public_key(auth.jwt_public_key)
    secret = tokens.signing_secret(config)
    return {}, None if secret is None else (secret.encode(), "HS256")


def _public_key(path: Any) -> Key:
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        problem = f"EVENTSHOP_JWT_PUBLIC_KEY {path} is not a readable PEM public key: {error}"
        raise SettingsError(problem) from None
    if isinstance(key, rsa.RSAPublicKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in CURVES:
        return key, CURVES[key.curve.name]
    raise SettingsError(f"EVENTSHOP_JWT_PUBLIC_KEY {path} must be an RSA or a P-256/384/521 EC key")


def describe(config: Settings) -> str:
    """How credentials are checked, in one line for the start-up log (no secret in it)."""
    auth = config.auth
    if not auth.required:
        return "authentication is OFF (EVENTSHOP_AUTH=off): anyone who can reach the API may change data"
    if auth.jwks_file:
        source = f"the keys of {auth.jwks_file}"
    elif auth.jwt_public_key:
        source = f"the public key {auth.jwt_public_key}"
    elif auth.jwt_secret:
        source = "EVENTSHOP_JWT_SECRET"
    elif tokens.signing_secret(config) is not None:
        source = "the data folder's development secret (set a key of your own in production)"
    else:
        return "authentication required: API keys only (no JWT key configured)"
    return f"authentication required: API keys, and JWTs signed with {source} for {auth.audience}"
