"""The Product aggregate: its commands, events, state and decider."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from domain.decider import Decider, Rejected
from domain.money import Money, money_problem

SKU = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")
NAME_MAX = 200
NAME_RAW_MAX = 2 * NAME_MAX  # characters before trimming: blanks around a name are not free
# Letters and symbols that show nothing: Hangul fillers and the blank Braille pattern.
BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
DESCRIPTION_MAX = 5000
CATEGORY_MAX, CATEGORIES_MAX = 50, 20
CATEGORY_SEPARATOR = "|"  # never inside a category: the read side joins them with it


# Commands. `at` is when the command was recorded; ids arrive from outside.


@dataclass(frozen=True)
class CreateProduct:
    product_id: str
    sku: str
    name: str
    description: str
    price: Money
    at: datetime
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateProduct:
    product_id: str
    name: str | None
    description: str | None
    at: datetime
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ChangeProductPrice:
    product_id: str
    price: Money
    at: datetime


@dataclass(frozen=True)
class DeleteProduct:
    product_id: str
    at: datetime


ProductCommand = CreateProduct | UpdateProduct | ChangeProductPrice | DeleteProduct


# Events, each with an explicit type name and schema version; `UPCASTERS` reads older ones.


@dataclass(frozen=True)
class ProductCreated:
    """v2 added `categories` (v1 products have none)."""

    TYPE: ClassVar[str] = "ProductCreated"
    VERSION: ClassVar[int] = 2
    product_id: str
    sku: str
    name: str
    description: str
    price: Money
    at: datetime
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductChanges:
    """What an update changed: a field left as None kept its value."""

    name: str | None = None
    description: str | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ProductUpdated:
    """v2 groups what changed under `changes` (v1 carried `name` and `description` at the top)."""

    TYPE: ClassVar[str] = "ProductUpdated"
    VERSION: ClassVar[int] = 2
    product_id: str
    changes: ProductChanges
    at: datetime


@dataclass(frozen=True)
class ProductPriceChanged:
    TYPE: ClassVar[str] = "ProductPriceChanged"
    VERSION: ClassVar[int] = 1
    product_id: str
    price: Money
    at: datetime


@dataclass(frozen=True)
class ProductDeleted:
    TYPE: ClassVar[str] = "ProductDeleted"
    VERSION: ClassVar[int] = 1
    product_id: str
    sku: str
    at: datetime


ProductEvent = ProductCreated | ProductUpdated | ProductPriceChanged | ProductDeleted


@dataclass(frozen=True)
class Product:
    """What the decider needs to know about one product."""

    exists: bool = False
    deleted: bool = False
    sku: str = ""
    name: str = ""
    description: str = ""
    price: Money = Money(0, "XXX")
    categories: tuple[str, ...] = ()


def _created_v1(data: dict[str, Any]) -> dict[str, Any]:
    return data | {"categories": []}


def _updated_v1(data: dict[str, Any]) -> dict[str, Any]:
    changes = {"name": data.get("name"), "description": data.get("description"), "categories": None}
    return {"product_id": data["product_id"], "changes": changes, "at": data["at"]}


UPCASTERS = {("ProductCreated", 1): _created_v1, ("ProductUpdated", 1): _updated_v1}


# Rules that need no state: the API checks them before recording a command.


def sku_problem(sku: str) -> str | None:
    if SKU.fullmatch(sku) is None:
        return "sku must be 1-32 characters of A-Z, 0-9 and '-', not starting with '-'"
    return None


def name_problem(name: str) -> str | None:
    if len(name) > NAME_RAW_MAX:
        return f"name must be at most {NAME_RAW_MAX} characters before trimming"
    if not 1 <= len(name.strip()) <= NAME_MAX:
        return f"name must be 1-{NAME_MAX} characters after trimming"
    if "\x00" in name:
        return "name must not contain NUL characters"
    if not any(_visible(char) for char in name):
        return "name must contain a visible character"
    return None


def _visible(char: str) -> bool:
    """Whether a character shows something: not a separator, a control, format or unassigned
    character (such as U+200B), a lone combining mark, nor a blank glyph."""
    return unicodedata.category(char)[0] not in "ZCM" and char not in BLANK_GLYPHS


def description_problem(description: str) -> str | None:
    if len(description) > DESCRIPTION_MAX:
        return f"description must be at most {DESCRIPTION_MAX} characters"
    if "\x00" in description:
        return "description must not contain NUL characters"
    return None


def price_problem(price: Money) -> str | None:
    return money_problem("price", price)


def categories_problem(categories: tuple[str, ...]) -> str | None:
    if len(categories) > CATEGORIES_MAX:
        return f"give at most {CATEGORIES_MAX} categories"
    for category in categories:
        if not 1 <= len(category.strip()) <= CATEGORY_MAX or len(category) > 2 * CATEGORY_MAX:
            return f"each category must be 1-{CATEGORY_MAX} characters after trimming"
        if CATEGORY_SEPARATOR in category or any(unicodedata.category(c)[0] == "C" for c in category):
            return f"a category must not contain '{CATEGORY_SEPARATOR}' or control characters"
        if not any(_visible(char) for char in category):
            return "a category must contain a visible character"
    return None


def normal_categories(categories: tuple[str, ...]) -> tuple[str, ...]:
    """The categories trimmed, each kept once (compared without case), in the order given."""
    kept: dict[str, str] = {}
    for category in categories:
        kept.setdefault(category.strip().casefold(), category.strip())
    return tuple(kept.values())


def problems(command: ProductCommand) -> list[str]:
    """Every stateless rule the command breaks, in words for a person."""
    found: list[str | None] = []
    match command:
        case CreateProduct():
            found = [
                sku_problem(command.sku),
                name_problem(command.name),
                description_problem(command.description),
                price_problem(command.price),
                categories_problem(command.categories),
            ]
        case UpdateProduct():
            if command.name is None and command.description is None and command.categories is None:
                found.append("give a name, a description or categories")
            if command.name is not None:
                found.append(name_problem(command.name))
            if command.description is not None:
                found.append(description_problem(command.description))
            if command.categories is not None:
                found.append(categories_problem(command.categories))
        case ChangeProductPrice():
            found = [price_problem(command.price)]
        case DeleteProduct():
            pass
    return [problem for problem in found if problem is not None]


def _require_live(state: Product) -> None:
    if not state.exists:
        raise Rejected("product not found")
    if state.deleted:
        raise Rejected("product deleted")


def decide(command: ProductCommand, state: Product) -> list[ProductEvent]:
    """The events that `command` causes, or `Rejected` with the rule it breaks."""
    if found := problems(command):
        raise Rejected("; ".join(found))
    match command:
        case CreateProduct():
            if state.exists:
                raise Rejected("product already exists")
            return [
                ProductCreated(
                    command.product_id,
                    command.sku,
                    command.name.strip(),
                    command.description,
                    command.price,
                    command.at,
                    normal_categories(command.categories),
                )
            ]
        case UpdateProduct():
            _require_live(state)
            name = None if command.name is None else command.name.strip()
            categories = None if command.categories is None else normal_categories(command.categories)
            changes = ProductChanges(
                name if name != state.name else None,
                command.description if command.description != state.description else None,
                categories if categories != state.categories else None,
            )
            if changes == ProductChanges():
                return []
            return [ProductUpdated(command.product_id, changes, command.at)]
        case ChangeProductPrice():
            _require_live(state)
            if command.price == state.price:
                return []
            return [ProductPriceChanged(command.product_id, command.price, command.at)]
        case DeleteProduct():
            _require_live(state)
            return [ProductDeleted(command.product_id, state.sku, command.at)]


def evolve(state: Product, event: ProductEvent) -> Product:
    """The state after `event`; never raises."""
    match event:
        case ProductCreated():
            return Product(
                True, False, event.sku, event.name, event.description, event.price, event.categories
            )
        case ProductUpdated():
            changes = event.changes
            return replace(
                state,
                name=state.name if changes.name is None else changes.name,
                description=state.description if changes.description is None else changes.description,
                categories=state.categories if changes.categories is None else changes.categories,
            )
        case ProductPriceChanged():
            return replace(state, price=event.price)
        case ProductDeleted():
            return replace(state, deleted=True)
    return state


def product_id(command: ProductCommand) -> str:
    return command.product_id


decider: Decider[ProductCommand, ProductEvent, Product] = Decider(
    stream_type="Product",
    id_of=product_id,
    initial_state=Product(),
    decide=decide,
    evolve=evolve,
    problems=problems,
    commands=(CreateProduct, UpdateProduct, ChangeProductPrice, DeleteProduct),
    events=(ProductCreated, ProductUpdated, ProductPriceChanged, ProductDeleted),
    state_version=2,  # 2: categories
    upcasters=UPCASTERS,
)
