"""Token checks, as an attacker would try them: every forged, confused, stale or misdirected token
is refused; a good one names its subject and roles."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from api.graphql.errors import ForbiddenError
from api.security.auth import Authenticator, Unauthenticated, authorize
from store import settings
from store.actor import JWT, Actor
from tests import auth


def now() -> datetime:
    return datetime.now(UTC)


def authenticator(**env: str) -> Authenticator:
    base = {"EVENTSHOP_DATA_DIR": "/nonexistent", "EVENTSHOP_JWT_SECRET": auth.SECRET}
    return Authenticator(settings.load({**base, **env}))


def actor(checker: Authenticator, token: str) -> Actor | None:
    return asyncio.run(checker.actor(f"Bearer {token}"))


def refused(checker: Authenticator, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        actor(checker, token)
    return str(caught.value)


def test_a_good_token_names_its_subject_and_roles() -> None:
    found = actor(authenticator(), auth.token("alice", ("catalog:write",)))
    assert found == Actor("alice", JWT, ("catalog:write",))


def test_no_header_is_no_actor_and_a_header_that_is_not_bearer_is_refused() -> None:
    assert asyncio.run(authenticator().actor(None)) is None
    for header in ("Basic YWxpY2U6cHc=", "Bearer", "Bearer   ", auth.token()):
        with pytest.raises(Unauthenticated):
            asyncio.run(authenticator().actor(header))


def test_a_forged_signature_is_refused() -> None:
    forged = jwt.encode(
        {
            "sub": "mallory",
            "roles": ["admin"],
            "iss": "eventshop",
            "aud": "eventshop",
            "exp": now() + timedelta(hours=1),
        },
        b"not-the-secret-not-the-secret-not-the-secret",
        algorithm="HS256",
    )
    assert refused(authenticator(), forged) == "the token is not valid"
    header, payload, signature = auth.token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin", "superuser"]
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(authenticator(), f"{header}.{tampered}.{signature}") == "the token is not valid"


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, default=str).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_alg_none_and_unsigned_tokens_are_refused() -> None:
    claims = {"sub": "mallory", "roles": ["admin"], "iss": "eventshop", "aud": "eventshop"}
    claims["exp"] = int((now() + timedelta(hours=1)).timestamp())  # type: ignore[assignment]
    assert refused(authenticator(), _unsigned(claims)) == "the token is not valid"
    assert refused(authenticator(), _unsigned(claims)[:-1]) == "the token is not valid"


def _rsa_key(folder: Path) -> tuple[rsa.RSAPrivateKey, Path]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (folder / "public.pem").write_bytes(pem)
    return private, folder / "public.pem"


def test_an_rs256_key_accepts_its_tokens_and_refuses_hs256_signed_with_the_public_key(tmp_path: Path) -> None:
    private, public = _rsa_key(tmp_path)
    checker = authenticator(EVENTSHOP_JWT_PUBLIC_KEY=str(public), EVENTSHOP_JWT_SECRET="")
    claims = {
        "sub": "svc",
        "roles": ["admin"],
        "iss": "eventshop",
        "aud": "eventshop",
        "exp": now() + timedelta(hours=1),
    }
    assert actor(checker, jwt.encode(claims, private, algorithm="RS256")) == Actor("svc", JWT, ("admin",))
    confused = _hmac_token(claims, public.read_bytes())
    assert refused(checker, confused) == "the token is not valid"
    assert refused(checker, auth.token()) == "the token is not valid"  # HS256 with the old secret


def _hmac_token(claims: dict[str, Any], key: bytes) -> str:
    """HS256 over `claims` with `key` as the HMAC secret (PyJWT itself refuses a PEM key as one)."""

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    body = {**claims, "exp": int(claims["exp"].timestamp())}
    signing_input = (
        f"{part(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{part(json.dumps(body).encode())}"
    )
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


def test_expired_and_not_yet_valid_tokens_are_refused_beyond_the_leeway() -> None:
    checker = authenticator(EVENTSHOP_JWT_LEEWAY="30")
    assert refused(checker, auth.token(exp=now() - timedelta(seconds=31))) == "the token has expired"
    assert actor(checker, auth.token(exp=now() - timedelta(seconds=20))) is not None
    assert refused(checker, auth.token(nbf=now() + timedelta(seconds=60))) == "the token is not valid yet"
    assert refused(checker, auth.token(exp=None)) == "the token is not valid"


def test_a_leeway_above_a_minute_is_refused_at_start() -> None:
    with pytest.raises(settings.SettingsError):
        authenticator(EVENTSHOP_JWT_LEEWAY="61")


def test_another_issuer_or_audience_is_refused() -> None:
    checker = authenticator()
    assert (
        refused(checker, auth.token(iss="https://evil.example"))
        == "the token is for another issuer or audience"
    )
    assert refused(checker, auth.token(aud="another-api")) == "the token is for another issuer or audience"
    assert refused(checker, auth.token(iss=None)) == "the token is not valid"
    configured = authenticator(EVENTSHOP_JWT_ISSUER="https://id.example", EVENTSHOP_JWT_AUDIENCE="shop")
    assert actor(configured, auth.token(iss="https://id.example", aud="shop")) is not None
    assert refused(configured, auth.token()) == "the token is for another issuer or audience"


def test_roles_must_be_an_array_of_strings_and_sub_a_short_string() -> None:
    checker = authenticator()
    assert "roles" in refused(checker, auth.token(roles="admin"))
    assert "roles" in refused(checker, auth.token(roles=["admin", 1]))
    assert "sub" in refused(checker, auth.token(sub="x" * 129))
    assert actor(checker, auth.token(roles=None)) == Actor("tester", JWT, ())


def test_an_es256_public_key_pins_es256(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "ec.pem").write_bytes(pem)
    checker = authenticator(EVENTSHOP_JWT_PUBLIC_KEY=str(tmp_path / "ec.pem"), EVENTSHOP_JWT_SECRET="")
    claims = {"sub": "svc", "iss": "eventshop", "aud": "eventshop", "exp": now() + timedelta(hours=1)}
    assert actor(checker, jwt.encode(claims, private, algorithm="ES256")) == Actor("svc", JWT, ())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert refused(checker, jwt.encode(claims, other, algorithm="RS256")) == "the token is not valid"


def test_a_jwks_file_picks_the_key_by_kid(tmp_path: Path) -> None:
    first, second = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    keys = []
    for kid, private in (("one", first), ("two", second)):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys}))
    checker = authenticator(EVENTSHOP_JWKS_FILE=str(tmp_path / "jwks.json"), EVENTSHOP_JWT_SECRET="")
    claims = {"sub": "svc", "iss": "eventshop", "aud": "eventshop", "exp": now() + timedelta(hours=1)}
    assert actor(checker, jwt.encode(claims, second, algorithm="RS256", headers={"kid": "two"})) is not None
    assert refused(checker, jwt.encode(claims, first, algorithm="RS256", headers={"kid": "two"}))
    assert refused(checker, jwt.encode(claims, first, algorithm="RS256", headers={"kid": "three"}))
    assert refused(checker, jwt.encode(claims, first, algorithm="RS256"))  # no kid, two keys


def test_an_unreadable_key_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(settings.SettingsError):
        authenticator(EVENTSHOP_JWT_PUBLIC_KEY=str(tmp_path / "bad.pem"))
    with pytest.raises(settings.SettingsError):
        authenticator(EVENTSHOP_JWKS_FILE=str(tmp_path / "missing.json"))


def test_product_commands_need_catalog_write_or_admin() -> None:
    authorize(Actor("a", JWT, ("catalog:write",)), "Product")
    authorize(Actor("b", JWT, ("admin",)), "Product")
    for roles in ((), ("catalog:read",), ("Admin",)):
        with pytest.raises(ForbiddenError):
            authorize(Actor("c", JWT, roles), "Product")


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    checker = authenticator(EVENTSHOP_JWT_LEEWAY="0")
    expires = int(time.time()) + 2  # `exp` is in whole seconds: the token lives 1 to 2 s from here
    token = auth.token(exp=expires)
    assert actor(checker, token) == actor(checker, token) == Actor("tester", JWT, ("admin",))
    time.sleep(max(0.0, expires + 0.2 - time.time()))
    assert refused(checker, token) == "the token has expired"
