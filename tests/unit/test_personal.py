"""Sealing personal values with a subject's key, and the master key that wraps the keys."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from store import personal, settings
from store.settings import SettingsError

KEY = AESSIV.generate_key(512)
SUBJECT = "0b6f3c1e-2a4d-4e8f-9c10-7d5e3f2a1b90"


def test_a_sealed_value_opens_with_its_key_subject_and_field_only() -> None:
    sealed = personal.seal(KEY, SUBJECT, "email", "ada@example.com")
    assert sealed.startswith("pd1:") and "ada" not in sealed
    assert personal.unseal(KEY, SUBJECT, "email", sealed) == "ada@example.com"
    assert personal.unseal(KEY, SUBJECT, "name", sealed) is None  # moved to another field
    assert personal.unseal(KEY, "someone-else", "email", sealed) is None  # or another subject
    assert personal.unseal(AESSIV.generate_key(512), SUBJECT, "email", sealed) is None
    assert personal.unseal(None, SUBJECT, "email", sealed) is None  # the key is gone: forgotten


def test_sealing_is_deterministic_per_subject_and_field() -> None:
    """So a resubmitted command equals the one recorded (I2)."""
    one = personal.seal(KEY, SUBJECT, "name", "Ada")
    assert personal.seal(KEY, SUBJECT, "name", "Ada") == one
    assert personal.seal(KEY, SUBJECT, "address", "Ada") != one
    assert personal.seal(KEY, "another", "name", "Ada") != one


def test_fields_are_sealed_opened_and_hidden_by_name() -> None:
    data = {"customer_id": SUBJECT, "name": "Ada", "email": "ada@example.com", "address": None}
    sealed = personal.seal_fields(data, ("name", "email", "address"), KEY, SUBJECT)
    assert sealed["customer_id"] == SUBJECT and sealed["address"] is None
    assert all(personal.is_sealed(sealed[f]) for f in ("name", "email"))
    assert personal.open_fields(sealed, ("name", "email", "address"), KEY, SUBJECT) == data
    assert personal.open_fields(sealed, ("name", "email"), None, SUBJECT)["name"] is None
    assert personal.hidden(sealed, ("name", "email")) == {**sealed, "name": None, "email": None}


def test_a_text_that_is_not_sealed_never_opens() -> None:
    assert personal.unseal(KEY, SUBJECT, "name", "Ada") is None
    assert personal.unseal(KEY, SUBJECT, "name", "pd1:not*base64") is None


def test_a_data_key_unwraps_with_the_master_key_that_wrapped_it_or_an_older_one_listed() -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    wrapped_by, wrapped = personal.MasterKeys(old).wrap(SUBJECT, KEY)
    assert wrapped_by == personal.key_id(old) and KEY not in wrapped
    assert personal.MasterKeys(new, (old,)).unwrap(SUBJECT, wrapped_by, wrapped) == KEY
    with pytest.raises(personal.MasterKeyError, match="not configured"):
        personal.MasterKeys(new).unwrap(SUBJECT, wrapped_by, wrapped)
    with pytest.raises(InvalidTag):  # a wrapped key moved to another subject
        personal.MasterKeys(old).unwrap("another", wrapped_by, wrapped)


def test_production_needs_a_configured_master_key(tmp_path: Path) -> None:
    env = {"EVENTSHOP_DATA_DIR": str(tmp_path), "EVENTSHOP_ENV": "production"}
    with pytest.raises(SettingsError, match="EVENTSHOP_MASTER_KEY must be set in production"):
        personal.master_keys(settings.load(env))
    configured = settings.load({**env, "EVENTSHOP_MASTER_KEY": personal.new_master_key()})
    assert len(personal.master_keys(configured).current) == 32


def test_elsewhere_the_data_folder_keeps_one_readable_by_its_owner_only(tmp_path: Path) -> None:
    config = settings.load({"EVENTSHOP_DATA_DIR": str(tmp_path)})
    first = personal.master_keys(config)
    assert personal.master_keys(config) == first
    assert (tmp_path / "master-key").stat().st_mode & 0o777 == 0o600
