"""Sealing personal values with a subject's key, and the master key that wraps the keys."""

from __future__ import annotations

import secrets

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from store import personal

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
