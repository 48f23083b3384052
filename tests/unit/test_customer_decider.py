"""Given events, when a command, then events or a rejection: the rules of the Customer aggregate.
Personal values pass through `decide` unread (they arrive sealed), so any text stands for them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.customer import (
    ChangeCustomerAddress,
    CustomerAddressChanged,
    CustomerCommand,
    CustomerEvent,
    CustomerForgotten,
    CustomerRegistered,
    ForgetCustomer,
    RegisterCustomer,
    decide,
    decider,
    problems,
    registration,
)
from domain.decider import Rejected

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ID = "0b6f3c1e-2a4d-4e8f-9c10-7d5e3f2a1b90"
REGISTERED = CustomerRegistered(ID, "sealed-name", "sealed-email", None, "alice", AT)
FORGOTTEN = CustomerForgotten(ID, AT)


def then(given: list[CustomerEvent], when: CustomerCommand) -> list[CustomerEvent]:
    return decide(when, decider.fold(given))


def test_a_registration_carries_its_values_and_its_owner() -> None:
    assert then([], RegisterCustomer(ID, "sealed-name", "sealed-email", None, "alice", AT)) == [REGISTERED]


def test_a_customer_is_registered_once() -> None:
    with pytest.raises(Rejected, match=r"^customer already registered$"):
        then([REGISTERED], RegisterCustomer(ID, "n", "e", None, "alice", AT))


def test_a_forgotten_customer_cannot_come_back() -> None:
    with pytest.raises(Rejected, match=r"^customer was forgotten$"):
        then([REGISTERED, FORGOTTEN], RegisterCustomer(ID, "n", "e", None, "alice", AT))
    with pytest.raises(Rejected, match=r"^customer was forgotten$"):
        then([REGISTERED, FORGOTTEN], ChangeCustomerAddress(ID, "a", None, AT))


def test_the_owner_or_an_admin_changes_the_address() -> None:
    assert then([REGISTERED], ChangeCustomerAddress(ID, "a", "alice", AT)) == [
        CustomerAddressChanged(ID, "a", AT)
    ]
    assert then([REGISTERED], ChangeCustomerAddress(ID, "a", None, AT)) == [
        CustomerAddressChanged(ID, "a", AT)
    ]
    with pytest.raises(Rejected, match="only the customer's owner"):
        then([REGISTERED], ChangeCustomerAddress(ID, "a", "mallory", AT))


def test_forgetting_is_for_the_owner_or_an_admin_and_happens_once() -> None:
    assert then([REGISTERED], ForgetCustomer(ID, "alice", AT)) == [FORGOTTEN]
    assert then([REGISTERED, FORGOTTEN], ForgetCustomer(ID, None, AT)) == []
    with pytest.raises(Rejected, match="only the customer's owner"):
        then([REGISTERED], ForgetCustomer(ID, "mallory", AT))


def test_an_unknown_customer_is_not_found() -> None:
    for command in (ChangeCustomerAddress(ID, "a", None, AT), ForgetCustomer(ID, None, AT)):
        with pytest.raises(Rejected, match=r"^customer not found$"):
            then([], command)


def test_the_state_holds_no_personal_data() -> None:
    state = decider.fold([REGISTERED, CustomerAddressChanged(ID, "sealed-address", AT)])
    assert "sealed" not in repr(state)


def test_a_registration_is_kept_trimmed() -> None:
    made = registration(ID, "  Ada Lovelace ", " ada@example.com ", " 1 Loop Rd ", "alice", AT)
    assert (made.name, made.email, made.address) == ("Ada Lovelace", "ada@example.com", "1 Loop Rd")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            RegisterCustomer(ID, " ", "a@b.co", None, "o", AT),
            ["name must be 1-200 characters after trimming"],
        ),
        (
            RegisterCustomer(ID, "Ada", "not-an-email", None, "o", AT),
            ["email must look like name@example.com"],
        ),
        (
            RegisterCustomer(ID, "Ada", "a@b.co", "x" * 501, "o", AT),
            ["address must be 1-500 characters after trimming"],
        ),
        (
            RegisterCustomer(ID, "A\x00da", "a@b.co", None, "o", AT),
            ["name must not contain control characters"],
        ),
        (ChangeCustomerAddress(ID, "", None, AT), ["address must be 1-500 characters after trimming"]),
        (ForgetCustomer(ID, None, AT), []),
    ],
)
def test_problems_name_the_rule_and_never_the_value(command: CustomerCommand, expected: list[str]) -> None:
    assert problems(command) == expected


@given(st.lists(st.sampled_from([REGISTERED, CustomerAddressChanged(ID, None, AT), FORGOTTEN])))
def test_evolve_never_raises(history: list[CustomerEvent]) -> None:
    decider.fold(history)
