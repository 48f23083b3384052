"""Every Product command and event survives `to_json` -> JSON text -> `from_json` unchanged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.customer import (
    ChangeCustomerAddress,
    CustomerAddressChanged,
    CustomerForgotten,
    CustomerRegistered,
    ForgetCustomer,
    RegisterCustomer,
)
from domain.money import Money
from domain.order import (
    CancelOrder,
    ExpireOrder,
    MarkOrderReserved,
    Order,
    OrderCancelled,
    OrderExpired,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    OrderRejected,
    OrderReserved,
    PayOrder,
    PlaceOrder,
    RejectOrder,
)
from domain.product import (
    ChangeProductPrice,
    CreateProduct,
    DeleteProduct,
    ProductChanges,
    ProductCreated,
    ProductDeleted,
    ProductPriceChanged,
    ProductUpdated,
    UpdateProduct,
)
from domain.stock import (
    CommitStock,
    ReceiveStock,
    ReleaseStock,
    Reservation,
    ReserveStock,
    Stock,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReservationRefused,
    StockReserved,
)
from store import registry
from store.codec import from_json, to_json

PRODUCT_ID = "5f0c6a52-0b8e-4c1e-9a57-2d7f3b1c9e01"
AT = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
AT_PLUS_2 = datetime(2024, 5, 1, 14, 30, 15, tzinfo=timezone(timedelta(hours=2)))
EUR_10 = Money(1000, "EUR")

LINES = (OrderLine("MUG-1", 2, Money(100, "EUR")), OrderLine("CUP-2", 1, Money(50, "EUR")))
ORDER_AND_STOCK = [
    ReceiveStock("MUG-1", 5, AT),
    ReserveStock("MUG-1", PRODUCT_ID, 2, AT),
    CommitStock("MUG-1", PRODUCT_ID, AT),
    ReleaseStock("MUG-1", PRODUCT_ID, AT_PLUS_2),
    StockReceived("MUG-1", 5, AT),
    StockReserved("MUG-1", PRODUCT_ID, 2, AT),
    StockReservationRefused("MUG-1", PRODUCT_ID, 9, 3, AT),
    StockCommitted("MUG-1", PRODUCT_ID, 2, AT),
    StockReleased("MUG-1", PRODUCT_ID, 2, AT),
    PlaceOrder(PRODUCT_ID, PRODUCT_ID, "alice", LINES, AT),
    MarkOrderReserved(PRODUCT_ID, AT_PLUS_2, AT),
    RejectOrder(PRODUCT_ID, "MUG-1: 9 asked, 3 available", AT),
    PayOrder(PRODUCT_ID, Money(250, "EUR"), None, AT),
    CancelOrder(PRODUCT_ID, None, "alice", AT),
    ExpireOrder(PRODUCT_ID, AT),
    OrderPlaced(PRODUCT_ID, PRODUCT_ID, "alice", LINES, Money(250, "EUR"), AT),
    OrderReserved(PRODUCT_ID, AT_PLUS_2, AT),
    OrderRejected(PRODUCT_ID, "why", AT),
    OrderPaid(PRODUCT_ID, Money(250, "EUR"), AT),
    OrderCancelled(PRODUCT_ID, "no", AT),
    OrderExpired(PRODUCT_ID, AT),
]

CUSTOMERS = [
    RegisterCustomer(PRODUCT_ID, "pd1:bmFtZQ", "pd1:ZW1haWw", None, "alice", AT),
    ChangeCustomerAddress(PRODUCT_ID, "pd1:YWRkcmVzcw", None, AT),
    ForgetCustomer(PRODUCT_ID, "alice", AT),
    CustomerRegistered(PRODUCT_ID, "pd1:bmFtZQ", "pd1:ZW1haWw", "pd1:YWRkcmVzcw", "alice", AT),
    CustomerAddressChanged(PRODUCT_ID, None, AT),
    CustomerForgotten(PRODUCT_ID, AT),
]

CASES = [
    pytest.param(CreateProduct(PRODUCT_ID, "WIDGET-1", "Widget", "A fine widget", EUR_10, AT), id="create"),
    pytest.param(CreateProduct(PRODUCT_ID, "A", "W", "", Money(0, "XXX"), AT_PLUS_2), id="create-edges"),
    pytest.param(UpdateProduct(PRODUCT_ID, "Gadget", "Now blue", AT), id="update-both"),
    pytest.param(UpdateProduct(PRODUCT_ID, "Gadget", None, AT), id="update-name"),
    pytest.param(UpdateProduct(PRODUCT_ID, None, "Now blue", AT), id="update-description"),
    pytest.param(UpdateProduct(PRODUCT_ID, None, None, AT), id="update-neither"),
    pytest.param(UpdateProduct(PRODUCT_ID, "", "", AT), id="update-empty-strings"),
    pytest.param(ChangeProductPrice(PRODUCT_ID, Money(1_000_000_000, "JPY"), AT), id="change-price"),
    pytest.param(DeleteProduct(PRODUCT_ID, AT), id="delete"),
    pytest.param(
        ProductCreated(PRODUCT_ID, "WIDGET-1", "Widget", 'Ünïcødé ✓ "quoted"\n', EUR_10, AT), id="created"
    ),
    pytest.param(ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", "Now blue"), AT), id="updated-both"),
    pytest.param(ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", None), AT), id="updated-name"),
    pytest.param(ProductUpdated(PRODUCT_ID, ProductChanges(None, "Now blue"), AT), id="updated-description"),
    pytest.param(
        ProductUpdated(PRODUCT_ID, ProductChanges(None, ""), AT_PLUS_2), id="updated-empty-description"
    ),
    pytest.param(ProductPriceChanged(PRODUCT_ID, Money(0, "EUR"), AT), id="price-changed"),
    pytest.param(ProductDeleted(PRODUCT_ID, "WIDGET-1", AT), id="deleted"),
    *(pytest.param(case, id=type(case).__name__) for case in ORDER_AND_STOCK),
    *(pytest.param(case, id=type(case).__name__) for case in CUSTOMERS),
]


def test_cases_cover_every_command_and_event() -> None:
    covered = {type(case.values[0]) for case in CASES}
    assert covered == {kind for d in registry.DECIDERS.values() for kind in (*d.commands, *d.events)}


def test_states_with_nested_collections_survive_a_snapshot() -> None:
    held = Stock("MUG-1", 7, {"o1": Reservation(2), "o2": Reservation(3, committed=True)})
    placed = Order("PLACED", "alice", Money(250, "EUR"), LINES)
    for state in (held, placed):
        assert from_json(type(state), json.loads(json.dumps(to_json(state)))) == state


@pytest.mark.parametrize("obj", CASES)
def test_round_trip(obj: Any) -> None:
    assert from_json(type(obj), to_json(obj)) == obj


@pytest.mark.parametrize("obj", CASES)
def test_round_trip_through_json_text(obj: Any) -> None:
    text = json.dumps(to_json(obj))
    decoded = from_json(type(obj), json.loads(text))
    assert decoded == obj
    assert type(decoded) is type(obj)


@pytest.mark.parametrize("obj", CASES)
def test_datetimes_keep_their_offset(obj: Any) -> None:
    decoded = from_json(type(obj), json.loads(json.dumps(to_json(obj))))
    assert isinstance(decoded.at, datetime)
    assert decoded.at.utcoffset() == obj.at.utcoffset()
    assert decoded.at.isoformat() == obj.at.isoformat()


@pytest.mark.parametrize("obj", CASES)
def test_to_json_is_json_serialisable(obj: Any) -> None:
    document = to_json(obj)
    assert isinstance(document, dict)
    assert json.loads(json.dumps(document)) == document


def test_to_json_shape_of_create() -> None:
    command = CreateProduct(PRODUCT_ID, "WIDGET-1", "Widget", "A fine widget", EUR_10, AT)
    assert to_json(command) == {
        "product_id": PRODUCT_ID,
        "sku": "WIDGET-1",
        "name": "Widget",
        "description": "A fine widget",
        "price": {"amount": 1000, "currency": "EUR"},
        "at": "2024-05-01T12:30:15.123456+00:00",
        "categories": [],
    }


def test_to_json_keeps_none_and_leaves_out_class_constants() -> None:
    event = ProductUpdated(PRODUCT_ID, ProductChanges(None, "Now blue"), AT)
    assert to_json(event) == {
        "product_id": PRODUCT_ID,
        "changes": {"name": None, "description": "Now blue", "categories": None},
        "at": "2024-05-01T12:30:15.123456+00:00",
    }


def test_from_json_builds_nested_money() -> None:
    event = from_json(
        ProductPriceChanged,
        {
            "product_id": PRODUCT_ID,
            "price": {"amount": 5, "currency": "USD"},
            "at": "2024-05-01T12:00:00+00:00",
        },
    )
    assert event == ProductPriceChanged(PRODUCT_ID, Money(5, "USD"), datetime(2024, 5, 1, 12, tzinfo=UTC))
    assert isinstance(event.price, Money)
    assert event.at.tzinfo is not None


@dataclass(frozen=True)
class _Grown:
    name: str | None
    tags: tuple[str, ...] = ()


def test_from_json_reads_a_missing_field_as_its_default_else_none() -> None:
    assert from_json(_Grown, {}) == _Grown(None, ())
    assert from_json(_Grown, {"name": "a", "tags": ["x"]}) == _Grown("a", ("x",))
    assert from_json(ProductChanges, {"name": "Gadget"}) == ProductChanges("Gadget", None, None)
