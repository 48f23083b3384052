"""Personal data, crypto-shredded: each subject's values sealed with a data key of its own, the key
kept wrapped by the master key in `personal_keys`, apart from the events; forgetting deletes it.

A sealed value is `pd1:` and the AES-SIV ciphertext (RFC 5297; associated data: the subject and
the field), in base64url. AES-SIV is deterministic: the same value of the same subject's field
seals to the same text, so a resubmitted command still equals the one recorded (I2); it tells
nothing across subjects or fields. Data keys are wrapped with AES-GCM (associated data: the
subject) under the master key; each wrapped key names the master key that wrapped it, so master
keys can be rotated (`rotate`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from sqlalchemy import Connection, insert, select, update

from store import settings
from store.schema import personal_keys
from store.settings import Settings, SettingsError

PREFIX = "pd1:"
MASTER_KEY_FILE = "master-key"


class ForgottenError(Exception):
    """The subject was forgotten (or never had a key): nothing can be sealed for it any more."""


class MasterKeyError(Exception):
    """A wrapped key was made with a master key this process does not hold."""


def key_id(master: bytes) -> str:
    return hashlib.sha256(b"eventshop master key\0" + master).hexdigest()[:16]


@dataclass(frozen=True)
class MasterKeys:
    """The master key new data keys are wrapped with, and older ones still accepted to unwrap."""

    current: bytes
    older: tuple[bytes, ...] = ()

    def wrap(self, subject: str, data_key: bytes) -> tuple[str, bytes]:
        nonce = secrets.token_bytes(12)
        return key_id(self.current), nonce + AESGCM(self.current).encrypt(nonce, data_key, subject.encode())

    def unwrap(self, subject: str, wrapped_by: str, wrapped: bytes) -> bytes:
        for master in (self.current, *self.older):
            if key_id(master) == wrapped_by:
                return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], subject.encode())
        raise MasterKeyError(f"a data key is wrapped by master key {wrapped_by}, which is not configured")


def new_master_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def master_keys(config: Settings) -> MasterKeys:
    """EVENTSHOP_MASTER_KEY (and EVENTSHOP_OLD_MASTER_KEYS); without it, the data folder's key,
    made on first use, except in production, which must configure one."""
    if config.master_key is not None:
        return MasterKeys(config.master_key, config.old_master_keys)
    if config.auth.production:
        raise SettingsError(
            "EVENTSHOP_MASTER_KEY must be set in production (make one with: eventshop keys new)"
        )
    return MasterKeys(_development_master_key(config.data_dir), config.old_master_keys)


def _development_master_key(data_dir: Path) -> bytes:
    """The master key kept in the data folder, made (readable by its owner only) on first use."""
    path = data_dir / MASTER_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process of this deployment made it first
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(new_master_key())
    key = settings.master_key_of(path.read_text(), str(path))
    assert key is not None
    return key


# Data keys


def data_keys(connection: Connection, master: MasterKeys, subjects: Iterable[str]) -> dict[str, bytes | None]:
    """Each subject's data key; None when it was forgotten or never had one."""
    wanted = list(dict.fromkeys(subjects))
    query = select(personal_keys).where(personal_keys.c.subject.in_(wanted))
    rows = {row.subject: row for row in connection.execute(query)}
    return {
        subject: None
        if (row := rows.get(subject)) is None or row.wrapped is None
        else master.unwrap(subject, row.wrapped_by, row.wrapped)
        for subject in wanted
    }


def key_for_new(connection: Connection, master: MasterKeys, subject: str, at: datetime) -> bytes:
    """The subject's data key, made now if it never had one; `ForgottenError` once forgotten."""
    row = connection.execute(select(personal_keys).where(personal_keys.c.subject == subject)).first()
    if row is not None:
        if row.wrapped is None:
            raise ForgottenError("customer was forgotten")
        return master.unwrap(subject, row.wrapped_by, row.wrapped)
    data_key = AESSIV.generate_key(512)
    wrapped_by, wrapped = master.wrap(subject, data_key)
    connection.execute(
        insert(personal_keys).values(subject=subject, wrapped_by=wrapped_by, wrapped=wrapped, created_at=at)
    )
    return data_key


def forget(connection: Connection, subject: str, at: datetime) -> None:
    """Delete the subject's key, keeping when it was forgotten: a new key is never made for it."""
    done = connection.execute(
        update(personal_keys)
        .where(personal_keys.c.subject == subject)
        .values(wrapped=None, wrapped_by=None, forgotten_at=at)
    )
    if done.rowcount == 0:
        connection.execute(insert(personal_keys).values(subject=subject, created_at=at, forgotten_at=at))


def rotate(connection: Connection, master: MasterKeys) -> int:
    """Wrap every data key that an older master key wrapped with the current one; how many."""
    current = key_id(master.current)
    rows = connection.execute(
        select(personal_keys).where(
            personal_keys.c.wrapped.is_not(None), personal_keys.c.wrapped_by != current
        )
    ).all()
    for row in rows:
        wrapped_by, wrapped = master.wrap(
            row.subject, master.unwrap(row.subject, row.wrapped_by, row.wrapped)
        )
        connection.execute(  # only the key read: one forgotten meanwhile stays forgotten
            update(personal_keys)
            .where(
                personal_keys.c.subject == row.subject,
                personal_keys.c.wrapped_by == row.wrapped_by,
                personal_keys.c.wrapped.is_not(None),
            )
            .values(wrapped_by=wrapped_by, wrapped=wrapped)
        )
    return len(rows)


# Sealing values


def seal(data_key: bytes, subject: str, field: str, value: str) -> str:
    sealed = AESSIV(data_key).encrypt(value.encode(), [subject.encode(), field.encode()])
    return PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(data_key: bytes | None, subject: str, field: str, value: Any) -> str | None:
    """The value sealed, or None when the key is gone (forgotten) or the value is not sealed."""
    if data_key is None or not is_sealed(value):
        return None
    text = value[len(PREFIX) :]
    try:
        plain = AESSIV(data_key).decrypt(
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), [subject.encode(), field.encode()]
        )
    except (InvalidTag, ValueError):
        return None
    return plain.decode()


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal_fields(
    data: Mapping[str, Any], fields: Iterable[str], data_key: bytes, subject: str
) -> dict[str, Any]:
    """`data` with each of `fields` that holds a value sealed."""
    sealed = dict(data)
    for field in fields:
        if sealed.get(field) is not None:
            sealed[field] = seal(data_key, subject, field, sealed[field])
    return sealed


def open_fields(
    data: Mapping[str, Any], fields: Iterable[str], data_key: bytes | None, subject: str
) -> dict[str, Any]:
    """`data` with each of `fields` unsealed (None once the subject is forgotten)."""
    return {**data, **{field: unseal(data_key, subject, field, data.get(field)) for field in fields}}


def hidden(data: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """`data` with each of `fields` as None: what readers that may not see personal data get."""
    return {**data, **dict.fromkeys(fields)}
