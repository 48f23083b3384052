"""Categories (ProductCreated v2, ProductUpdated v2) and the upcasters that read v1 events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.decider import Rejected
from domain.money import Money
from domain.product import (
    CreateProduct,
    ProductChanges,
    ProductCreated,
    ProductEvent,
    ProductUpdated,
    UpdateProduct,
    decide,
    decider,
)
from store import registry
from store.codec import from_json

PRODUCT_ID = "5f0c6a52-0b8e-4c1e-9a57-2d7f3b1c9e01"
T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 12, tzinfo=UTC)
EUR = Money(1000, "EUR")
CREATED = ProductCreated(PRODUCT_ID, "W-1", "Widget", "", EUR, T0, ("Tools", "Garden"))


def then(given: list[ProductEvent], when: CreateProduct | UpdateProduct) -> list[ProductEvent]:
    return list(decide(when, decider.fold(given)))


def test_create_keeps_categories_trimmed_once_each_in_the_order_given() -> None:
    command = CreateProduct(
        PRODUCT_ID, "W-1", "Widget", "", EUR, T0, (" Tools ", "Garden", "tools", "GARDEN ")
    )
    assert then([], command) == [CREATED]


def test_create_without_categories_has_none() -> None:
    assert then([], CreateProduct(PRODUCT_ID, "W-1", "Widget", "", EUR, T0)) == [
        ProductCreated(PRODUCT_ID, "W-1", "Widget", "", EUR, T0, ())
    ]


@pytest.mark.parametrize(
    ("categories", "message"),
    [
        (("",), "each category must be 1-50 characters after trimming"),
        (("x" * 51,), "each category must be 1-50 characters after trimming"),
        (("a|b",), "a category must not contain '|' or control characters"),
        (("tab\there",), "a category must not contain '|' or control characters"),
        (("\u200b",), "a category must not contain '|' or control characters"),
        (("\u3164",), "a category must contain a visible character"),
        (tuple(f"c{i}" for i in range(21)), "give at most 20 categories"),
    ],
)
def test_bad_categories_are_refused(categories: tuple[str, ...], message: str) -> None:
    with pytest.raises(Rejected, match=message.replace("|", r"\|")):
        then([], CreateProduct(PRODUCT_ID, "W-1", "Widget", "", EUR, T0, categories))


def test_update_replaces_the_categories() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, None, None, T1, ("Kitchen",))) == [
        ProductUpdated(PRODUCT_ID, ProductChanges(categories=("Kitchen",)), T1)
    ]


def test_update_to_no_categories_removes_them_all() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, None, None, T1, ())) == [
        ProductUpdated(PRODUCT_ID, ProductChanges(categories=()), T1)
    ]


def test_update_with_the_same_categories_changes_nothing() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, None, None, T1, ("Tools", " Garden"))) == []


def test_update_keeps_categories_when_not_given() -> None:
    events = then([CREATED], UpdateProduct(PRODUCT_ID, "Gadget", None, T1))
    assert decider.fold([CREATED, *events]).categories == ("Tools", "Garden")


# Upcasters: stored v1 data read as v2.

CREATED_V1 = {
    "product_id": PRODUCT_ID,
    "sku": "W-1",
    "name": "Widget",
    "description": "Blue",
    "price": {"amount": 1000, "currency": "EUR"},
    "at": "2024-05-01T12:00:00+00:00",
}
UPDATED_V1 = {
    "product_id": PRODUCT_ID,
    "name": "Gadget",
    "description": None,
    "at": "2024-05-02T12:00:00+00:00",
}


def test_a_v1_creation_reads_as_v2_with_no_categories() -> None:
    version, data = registry.upcast("ProductCreated", 1, CREATED_V1)
    assert version == 2
    assert from_json(ProductCreated, data) == ProductCreated(PRODUCT_ID, "W-1", "Widget", "Blue", EUR, T0, ())


def test_a_v1_update_reads_as_v2_with_its_changes_grouped() -> None:
    version, data = registry.upcast("ProductUpdated", 1, UPDATED_V1)
    assert version == 2
    assert data == {
        "product_id": PRODUCT_ID,
        "changes": {"name": "Gadget", "description": None, "categories": None},
        "at": "2024-05-02T12:00:00+00:00",
    }
    assert from_json(ProductUpdated, data) == ProductUpdated(PRODUCT_ID, ProductChanges("Gadget"), T1)


def test_the_newest_shape_is_left_as_it_is() -> None:
    data = {"product_id": PRODUCT_ID, "changes": {"name": "A"}, "at": "2024-05-02T12:00:00+00:00"}
    assert registry.upcast("ProductUpdated", 2, data) == (2, data)
    assert registry.upcast("SomethingElse", 1, data) == (1, data)


def test_upcasting_leaves_the_stored_document_untouched() -> None:
    stored = dict(UPDATED_V1)
    registry.upcast("ProductUpdated", 1, stored)
    registry.upcast("ProductCreated", 1, CREATED_V1)
    assert stored == UPDATED_V1
    assert "categories" not in CREATED_V1


def test_every_upcaster_chain_reaches_the_newest_version() -> None:
    assert registry.broken_chains() == []
    assert registry.unreadable("ProductCreated", 1) is None
    assert registry.unreadable("ProductCreated", 3) is not None


def test_a_state_from_v1_events_equals_one_from_v2_events() -> None:
    created = from_json(ProductCreated, registry.upcast("ProductCreated", 1, CREATED_V1)[1])
    updated = from_json(ProductUpdated, registry.upcast("ProductUpdated", 1, UPDATED_V1)[1])
    new: list[ProductEvent] = [
        ProductCreated(PRODUCT_ID, "W-1", "Widget", "Blue", EUR, T0),
        ProductUpdated(PRODUCT_ID, ProductChanges(name="Gadget"), T1),
    ]
    assert decider.fold([created, updated]) == decider.fold(new)
