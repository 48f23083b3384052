"""Configuration, read from environment variables (see the README for each)."""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

N = TypeVar("N", int, float)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_LEEWAY = 60.0  # seconds: the most clock skew a token's exp/nbf may be granted


class SettingsError(ValueError):
    """A variable holds a value eventshop cannot use; the message names it."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; each is checked before anything runs."""

    max_body: int  # bytes of an HTTP body (413 past it)
    max_depth: int  # nesting of selections, introspection included
    max_aliases: int
    max_root_fields: int  # fields of the operation's root, repeats of one field counted
    max_tokens: int  # lexical tokens of the document
    max_directives: int
    max_variables: int  # bytes of the JSON variables
    max_first: int  # the largest `first:` a page may ask for
    max_mutations: int  # mutation fields in one request
    max_fields: int  # fields (and fragments) an operation selects, fragments expanded
    max_cost: int  # fields an operation resolves, each counted once per item of the pages it sits in
    max_response: int  # bytes of a response's JSON
    header_timeout: float  # seconds a client may take to send its headers
    body_timeout: float  # seconds a client may take to send its body


@dataclass(frozen=True)
class Auth:
    """Who may do what: see the README's Security section."""

    required: bool  # EVENTSHOP_AUTH=required (default) or off
    authenticated_reads: bool  # EVENTSHOP_READS=authenticated
    production: bool  # EVENTSHOP_ENV=production: no introspection, no GraphiQL
    jwt_secret: str | None
    jwt_public_key: Path | None
    jwks_file: Path | None
    issuer: str
    audience: str
    leeway: float
    rate_limit: float  # mutations per second per credential (0: off); bursts of twice that
    cors_origins: tuple[str, ...]
    cors_headers: tuple[str, ...]  # request headers a listed origin may send, beside the standard ones
    trusted_proxies: tuple[Network, ...]  # peers whose X-Forwarded-For names the client
    trusted_documents: Path | None  # a manifest: only its documents run

    @property
    def keys_configured(self) -> bool:
        return bool(self.jwt_secret or self.jwt_public_key or self.jwks_file)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str
    embedded_broker: bool
    partitions: int
    command_batch: int
    projection_batch: int
    max_attempts: int
    redeliver_after: float
    broker_timeout: float
    wait_timeout: float
    payment_timeout: float  # seconds an order may stay RESERVED before it expires
    ready_max_lag: int  # events a projection may lag before the API says it is not ready
    metrics_port: int | None  # where a worker serves /metrics in a Procfile deployment
    json_logs: bool  # JSON log lines (production) rather than readable ones
    log_level: str
    auth: Auth
    limits: Limits
    read_urls: tuple[str, ...] = ()  # DATABASE_READ_URL: PostgreSQL streaming replicas for queries
    replica_max_lag: int = 1000  # EVENTSHOP_REPLICA_MAX_LAG: events a replica may lag and still serve
    publish: str | None = None  # EVENTSHOP_PUBLISH: the relay's sink (nats://… or redis://…)
    publish_stream: str | None = None  # EVENTSHOP_PUBLISH_STREAM; the sink's default when None
    publish_subject: str = "eventshop.events"  # EVENTSHOP_PUBLISH_SUBJECT (NATS)
    publish_maxlen: int | None = None  # EVENTSHOP_PUBLISH_MAXLEN (Redis Streams): trim beyond it
    master_key: bytes | None = None  # EVENTSHOP_MASTER_KEY: wraps personal data keys (store.personal)
    old_master_keys: tuple[bytes, ...] = ()  # EVENTSHOP_OLD_MASTER_KEYS: still unwrap, during a rotation


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings `environ` (default: this process's environment) describes. A process reads them
    once, at its start, and passes them on; `DATABASE_URL` and `BROKER_URL` come first."""
    env = os.environ if environ is None else environ
    folder = (Path.cwd() / (env.get("EVENTSHOP_DATA_DIR") or "eventshop-data")).resolve()
    broker_url = env.get("BROKER_URL")
    return Settings(
        data_dir=folder,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{folder / 'eventshop.db'}",
        broker_url=broker_url or f"redis+socket://{folder / 'broker' / 'redis.sock'}",
        embedded_broker=not broker_url,
        partitions=_number(env, "EVENTSHOP_PARTITIONS", 2, int),
        command_batch=_number(env, "EVENTSHOP_COMMAND_BATCH", 100, int),
        projection_batch=_number(env, "EVENTSHOP_PROJECTION_BATCH", 500, int),
        max_attempts=_number(env, "EVENTSHOP_MAX_ATTEMPTS", 5, int),
        redeliver_after=_number(env, "EVENTSHOP_REDELIVER_AFTER", 5.0, float),
        broker_timeout=_number(env, "EVENTSHOP_BROKER_TIMEOUT", 3.0, float),
        wait_timeout=_number(env, "EVENTSHOP_WAIT_TIMEOUT", 5.0, float),
        payment_timeout=_number(env, "EVENTSHOP_PAYMENT_TIMEOUT", 900.0, float),
        ready_max_lag=_number(env, "EVENTSHOP_READY_MAX_LAG", 10_000, int),
        metrics_port=_number(env, "EVENTSHOP_METRICS_PORT", 0, int) or None,
        json_logs=(env.get("EVENTSHOP_LOG_FORMAT") or ("json" if _production(env) else "console")) == "json",
        log_level=(env.get("EVENTSHOP_LOG_LEVEL") or "INFO").upper(),
        auth=_auth(env),
        limits=_limits(env),
        read_urls=tuple(u.strip() for u in (env.get("DATABASE_READ_URL") or "").split(",") if u.strip()),
        replica_max_lag=_number(env, "EVENTSHOP_REPLICA_MAX_LAG", 1000, int),
        publish=_sink(env.get("EVENTSHOP_PUBLISH")),
        publish_stream=env.get("EVENTSHOP_PUBLISH_STREAM") or None,
        publish_subject=env.get("EVENTSHOP_PUBLISH_SUBJECT") or "eventshop.events",
        publish_maxlen=_number(env, "EVENTSHOP_PUBLISH_MAXLEN", 0, int) or None,
        master_key=master_key_of(env.get("EVENTSHOP_MASTER_KEY"), "EVENTSHOP_MASTER_KEY"),
        old_master_keys=tuple(
            master_key_of(text, "EVENTSHOP_OLD_MASTER_KEYS") or b""
            for text in (env.get("EVENTSHOP_OLD_MASTER_KEYS") or "").split(",")
            if text.strip()
        ),
    )


def _sink(url: str | None) -> str | None:
    if url and not url.startswith(("nats://", "redis://", "rediss://")):
        raise SettingsError("EVENTSHOP_PUBLISH must be a nats:// or redis:// URL")
    return url or None


def master_key_of(text: str | None, name: str) -> bytes | None:
    """A master key as configured: 32 bytes in base64 (standard or url-safe); None if not given."""
    if not text:
        return None
    key = _base64(text)
    if len(key) != 32:
        raise SettingsError(f"{name} must be 32 bytes in base64 (make one with: eventshop keys new)")
    return key


def _base64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.strip().replace("+", "-").replace("/", "_") + "==")
    except ValueError:
        return b""


def _auth(env: Mapping[str, str]) -> Auth:
    mode = (env.get("EVENTSHOP_AUTH") or "required").lower()
    if mode not in ("required", "off"):
        raise SettingsError(f"EVENTSHOP_AUTH must be required or off, not {mode!r}")
    reads = (env.get("EVENTSHOP_READS") or "anonymous").lower()
    if reads not in ("anonymous", "authenticated"):
        raise SettingsError(f"EVENTSHOP_READS must be anonymous or authenticated, not {reads!r}")
    leeway = _number(env, "EVENTSHOP_JWT_LEEWAY", 30.0, float)
    if not 0 <= leeway <= MAX_LEEWAY:
        raise SettingsError(f"EVENTSHOP_JWT_LEEWAY must be between 0 and {MAX_LEEWAY:g} seconds")
    origins = tuple(o.strip() for o in (env.get("EVENTSHOP_CORS_ORIGINS") or "").split(",") if o.strip())
    return Auth(
        required=mode == "required",
        authenticated_reads=reads == "authenticated",
        production=_production(env),
        jwt_secret=env.get("EVENTSHOP_JWT_SECRET") or None,
        jwt_public_key=_path(env.get("EVENTSHOP_JWT_PUBLIC_KEY")),
        jwks_file=_path(env.get("EVENTSHOP_JWKS_FILE")),
        issuer=env.get("EVENTSHOP_JWT_ISSUER") or "eventshop",
        audience=env.get("EVENTSHOP_JWT_AUDIENCE") or "eventshop",
        leeway=leeway,
        rate_limit=_number(env, "EVENTSHOP_RATE_LIMIT", 50.0, float),
        cors_origins=origins,
        cors_headers=_names(env, "EVENTSHOP_CORS_HEADERS"),
        trusted_proxies=_networks(env, "EVENTSHOP_TRUSTED_PROXIES"),
        trusted_documents=_path(env.get("EVENTSHOP_TRUSTED_DOCUMENTS")),
    )


def _limits(env: Mapping[str, str]) -> Limits:
    def number(name: str, default: int) -> int:
        return _number(env, name, default, int)

    return Limits(
        max_body=number("EVENTSHOP_MAX_BODY", 1024 * 1024),
        max_depth=number("EVENTSHOP_MAX_DEPTH", 15),
        max_aliases=number("EVENTSHOP_MAX_ALIASES", 30),
        max_root_fields=number("EVENTSHOP_MAX_ROOT_FIELDS", 20),
        max_tokens=number("EVENTSHOP_MAX_TOKENS", 10_000),
        max_directives=number("EVENTSHOP_MAX_DIRECTIVES", 50),
        max_variables=number("EVENTSHOP_MAX_VARIABLES", 64 * 1024),
        max_first=number("EVENTSHOP_MAX_FIRST", 1000),
        max_mutations=number("EVENTSHOP_MAX_MUTATIONS", 10),
        max_fields=number("EVENTSHOP_MAX_FIELDS", 500),
        max_cost=number("EVENTSHOP_MAX_COST", 25_000),
        max_response=number("EVENTSHOP_MAX_RESPONSE", 4 * 1024 * 1024),
        header_timeout=_number(env, "EVENTSHOP_HEADER_TIMEOUT", 10.0, float),
        body_timeout=_number(env, "EVENTSHOP_BODY_TIMEOUT", 10.0, float),
    )


def _number(env: Mapping[str, str], name: str, default: N, kind: Callable[[str], N]) -> N:
    """The variable `name` as a number of `kind` (`default` when unset or empty)."""
    value = env.get(name)
    if not value:
        return default
    try:
        return kind(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}") from None


def _names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of HTTP header names, each a token (RFC 9110), lower-cased."""
    found = tuple(part.strip().lower() for part in (env.get(name) or "").split(",") if part.strip())
    for header in found:
        if not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in header) or not header.isascii():
            raise SettingsError(f"{name} must list header names, and {header!r} is not one")
    return found


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    """A comma-separated list of addresses or networks (CIDR), e.g. `10.0.0.0/8, ::1`."""
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in (env.get(name) or "").split(",")
            if part.strip()
        )
    except ValueError as error:
        raise SettingsError(f"{name} must list IP addresses or networks: {error}") from None


def _production(env: Mapping[str, str]) -> bool:
    return (env.get("EVENTSHOP_ENV") or "").lower() == "production"


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None
