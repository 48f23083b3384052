"""The catalog: products filtered (`ProductFilter`), sorted (`ProductOrder`) and paged (`api.read.pages`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, or_

from api.graphql.errors import UserInputError
from api.read.pages import Keyset
from domain.product import CATEGORY_SEPARATOR
from store import product_rows

SEARCH_MAX = 100
PRODUCTS = Keyset(
    "product",
    {"NAME": ("name", str), "PRICE": ("price_amount", int), "UPDATED_AT": ("updated_at", datetime)},
)


def filters(table: Table, given: dict[str, Any] | None) -> list[ColumnElement[bool]]:
    """The SQL conditions of a `ProductFilter`."""
    given = given or {}
    found: list[ColumnElement[bool]] = []
    if search := given.get("search"):
        if len(search) > SEARCH_MAX:
            raise UserInputError(f"search must be at most {SEARCH_MAX} characters")
        pattern = f"%{_escaped(search)}%"
        found.append(or_(table.c.name.ilike(pattern, escape="\\"), table.c.sku.ilike(pattern, escape="\\")))
    if prefix := given.get("skuPrefix"):
        if len(prefix) > SEARCH_MAX:
            raise UserInputError(f"skuPrefix must be at most {SEARCH_MAX} characters")
        found.append(table.c.sku.ilike(f"{_escaped(prefix)}%", escape="\\"))
    if given.get("currency") is not None:
        found.append(table.c.price_currency == given["currency"].upper())
    if given.get("priceMin") is not None:
        found.append(table.c.price_amount >= given["priceMin"])
    if given.get("priceMax") is not None:
        found.append(table.c.price_amount <= given["priceMax"])
    if (category := given.get("category")) is not None:
        if len(category) > SEARCH_MAX or CATEGORY_SEPARATOR in category:
            raise UserInputError(
                f"category must be at most {SEARCH_MAX} characters, without '{CATEGORY_SEPARATOR}'"
            )
        pattern = f"%{_escaped(product_rows.joined((category.strip(),)))}%"
        found.append(table.c.categories.ilike(pattern, escape="\\"))
    return found


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
