"""The Customer aggregate: personal data that can be forgotten.

The fields a class lists in `PERSONAL` are a person's data (name, email, address): the API checks
them with `problems` and seals them with the customer's own key before it records the command,
so `decide` carries them from command to event unread, and the state holds none of them.
`CustomerForgotten` ends the customer's key: every value sealed with it becomes unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from domain.decider import Decider, Rejected

NAME_MAX, EMAIL_MAX, ADDRESS_MAX = 200, 254, 500
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# Commands. `owner` and `by` are subjects: who registered the record, and who asks to change or
# forget it (None for an administrator, or with authentication off).


@dataclass(frozen=True)
class RegisterCustomer:
    PERSONAL: ClassVar[tuple[str, ...]] = ("name", "email", "address")
    NEW_SUBJECT: ClassVar[bool] = True  # its key is made when it is recorded
    customer_id: str
    name: str
    email: str
    address: str | None
    owner: str
    at: datetime


@dataclass(frozen=True)
class ChangeCustomerAddress:
    PERSONAL: ClassVar[tuple[str, ...]] = ("address",)
    customer_id: str
    address: str
    by: str | None
    at: datetime


@dataclass(frozen=True)
class ForgetCustomer:
    customer_id: str
    by: str | None
    at: datetime


CustomerCommand = RegisterCustomer | ChangeCustomerAddress | ForgetCustomer


# Events


@dataclass(frozen=True)
class CustomerRegistered:
    TYPE: ClassVar[str] = "CustomerRegistered"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ("name", "email", "address")
    customer_id: str
    name: str | None
    email: str | None
    address: str | None
    owner: str
    at: datetime


@dataclass(frozen=True)
class CustomerAddressChanged:
    TYPE: ClassVar[str] = "CustomerAddressChanged"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ("address",)
    customer_id: str
    address: str | None
    at: datetime


@dataclass(frozen=True)
class CustomerForgotten:
    TYPE: ClassVar[str] = "CustomerForgotten"
    VERSION: ClassVar[int] = 1
    customer_id: str
    at: datetime


CustomerEvent = CustomerRegistered | CustomerAddressChanged | CustomerForgotten


@dataclass(frozen=True)
class Customer:
    """What the decider needs: no personal data, only whether it exists, whose it is, and whether
    it was forgotten."""

    registered: bool = False
    forgotten: bool = False
    owner: str = ""


def registration(
    customer_id: str, name: str, email: str, address: str | None, owner: str, at: datetime
) -> RegisterCustomer:
    """A registration with its values trimmed, as they are kept."""
    return RegisterCustomer(
        customer_id, name.strip(), email.strip(), None if address is None else address.strip(), owner, at
    )


def _text_problem(field: str, value: str, most: int) -> str | None:
    if not 1 <= len(value.strip()) <= most or len(value) > 2 * most:
        return f"{field} must be 1-{most} characters after trimming"
    if any(ord(char) < 32 and char not in "\n\t" for char in value):
        return f"{field} must not contain control characters"
    return None


def problems(command: CustomerCommand) -> list[str]:
    """Every stateless rule the command breaks, in words that never repeat the values given."""
    found: list[str | None] = []
    match command:
        case RegisterCustomer():
            found = [
                _text_problem("name", command.name, NAME_MAX),
                _text_problem("email", command.email, EMAIL_MAX),
            ]
            if found[1] is None and EMAIL.fullmatch(command.email.strip()) is None:
                found.append("email must look like name@example.com")
            if command.address is not None:
                found.append(_text_problem("address", command.address, ADDRESS_MAX))
        case ChangeCustomerAddress():
            found = [_text_problem("address", command.address, ADDRESS_MAX)]
        case ForgetCustomer():
            pass
    return [problem for problem in found if problem is not None]


def _require_own(state: Customer, by: str | None) -> None:
    if not state.registered:
        raise Rejected("customer not found")
    if by is not None and by != state.owner:
        raise Rejected("only the customer's owner or orders:admin may change or forget it")


def decide(command: CustomerCommand, state: Customer) -> list[CustomerEvent]:
    """The events `command` causes, or `Rejected`; personal values pass through unread."""
    match command:
        case RegisterCustomer():
            if state.forgotten:
                raise Rejected("customer was forgotten")
            if state.registered:
                raise Rejected("customer already registered")
            return [
                CustomerRegistered(
                    command.customer_id,
                    command.name,
                    command.email,
                    command.address,
                    command.owner,
                    command.at,
                )
            ]
        case ChangeCustomerAddress():
            _require_own(state, command.by)
            if state.forgotten:
                raise Rejected("customer was forgotten")
            return [CustomerAddressChanged(command.customer_id, command.address, command.at)]
        case ForgetCustomer():
            _require_own(state, command.by)
            return [] if state.forgotten else [CustomerForgotten(command.customer_id, command.at)]


def evolve(state: Customer, event: CustomerEvent) -> Customer:
    """The state after `event`; never raises."""
    match event:
        case CustomerRegistered():
            return Customer(registered=True, owner=event.owner)
        case CustomerForgotten():
            return replace(state, forgotten=True)
    return state


def customer_id(command: CustomerCommand) -> str:
    return command.customer_id


decider: Decider[CustomerCommand, CustomerEvent, Customer] = Decider(
    stream_type="Customer",
    id_of=customer_id,
    initial_state=Customer(),
    decide=decide,
    evolve=evolve,
    problems=problems,
    commands=(RegisterCustomer, ChangeCustomerAddress, ForgetCustomer),
    events=(CustomerRegistered, CustomerAddressChanged, CustomerForgotten),
)
