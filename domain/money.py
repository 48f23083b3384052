"""Amounts of money: minor units of an ISO 4217 currency."""

from __future__ import annotations

from dataclasses import dataclass

from domain.currencies import ISO_4217

AMOUNT_MAX = 1_000_000_000


@dataclass(frozen=True)
class Money:
    """An amount in minor units of an ISO 4217 currency."""

    amount: int
    currency: str


def money_problem(what: str, money: Money) -> str | None:
    if isinstance(money.amount, bool) or not isinstance(money.amount, int):
        return f"{what} amount must be an integer"
    if not 0 <= money.amount <= AMOUNT_MAX:
        return f"{what} amount must be between 0 and {AMOUNT_MAX} minor units"
    if money.currency not in ISO_4217:
        return f"{what} currency must be an ISO 4217 code, e.g. EUR"
    return None
