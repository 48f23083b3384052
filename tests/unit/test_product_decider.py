"""Given events, when a command, then events or a rejection: the rules of the Product aggregate."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.decider import Rejected
from domain.money import Money
from domain.product import (
    ChangeProductPrice,
    CreateProduct,
    DeleteProduct,
    Product,
    ProductChanges,
    ProductCommand,
    ProductCreated,
    ProductDeleted,
    ProductEvent,
    ProductPriceChanged,
    ProductUpdated,
    UpdateProduct,
    decide,
    decider,
    description_problem,
    evolve,
    name_problem,
    problems,
    sku_problem,
)


def then(given: list[ProductEvent], when: ProductCommand) -> list[ProductEvent]:
    """The events `when` causes after the history `given`, or `Rejected`."""
    return decide(when, decider.fold(given))


PRODUCT_ID = "5f0c6a52-0b8e-4c1e-9a57-2d7f3b1c9e01"
OTHER_ID = "9b2d4e61-7a3f-4c8d-b1e5-0f6a2c9d8e73"
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 9, 30, 0, tzinfo=UTC)
T2 = datetime(2024, 5, 3, 18, 45, 0, tzinfo=UTC)
EUR_10 = Money(1000, "EUR")
EUR_20 = Money(2000, "EUR")

SKU_MESSAGE = "sku must be 1-32 characters of A-Z, 0-9 and '-', not starting with '-'"
NAME_MESSAGE = "name must be 1-200 characters after trimming"
RAW_NAME_MESSAGE = "name must be at most 400 characters before trimming"
INVISIBLE_NAME_MESSAGE = "name must contain a visible character"
DESCRIPTION_MESSAGE = "description must be at most 5000 characters"
AMOUNT_TYPE_MESSAGE = "price amount must be an integer"
AMOUNT_RANGE_MESSAGE = "price amount must be between 0 and 1000000000 minor units"
CURRENCY_MESSAGE = "price currency must be an ISO 4217 code, e.g. EUR"
NOTHING_TO_UPDATE_MESSAGE = "give a name, a description or categories"


def create(
    sku: str = "WIDGET-1",
    name: str = "Widget",
    description: str = "A fine widget",
    price: Money = EUR_10,
    product_id: str = PRODUCT_ID,
) -> CreateProduct:
    return CreateProduct(product_id, sku, name, description, price, T1)


CREATED = ProductCreated(PRODUCT_ID, "WIDGET-1", "Widget", "A fine widget", EUR_10, T0)
DELETED = ProductDeleted(PRODUCT_ID, "WIDGET-1", T1)


def exact(message: str) -> str:
    """A `pytest.raises(match=...)` pattern for exactly `message`."""
    return f"^{re.escape(message)}$"


# --- create -----------------------------------------------------------------------------------------


def test_create_on_empty_history_yields_product_created() -> None:
    assert then([], create()) == [
        ProductCreated(PRODUCT_ID, "WIDGET-1", "Widget", "A fine widget", EUR_10, T1)
    ]


def test_create_with_existing_id_is_rejected() -> None:
    with pytest.raises(Rejected, match=exact("product already exists")):
        then([CREATED], create())


def test_create_with_id_of_deleted_product_is_rejected() -> None:
    with pytest.raises(Rejected, match=exact("product already exists")):
        then([CREATED, DELETED], create())


def test_create_with_existing_id_is_rejected_even_with_different_details() -> None:
    with pytest.raises(Rejected, match=exact("product already exists")):
        then([CREATED], create(sku="OTHER-2", name="Other", description="", price=EUR_20))


# --- sku --------------------------------------------------------------------------------------------

VALID_SKUS = ["A", "0", "ABC-1", "A-", "9-9-9", "A" * 32, "Z" + "-" * 31]
INVALID_SKUS = [
    "",
    "-A",
    "-",
    "abc",
    "Abc",
    "A" * 33,
    "AB_1",
    "AB 1",
    " ABC",
    "ABC ",
    "ABC\n",
    "\nABC",
    "ABC\r\n",
    "ÄBC",
    "AB\u0661",  # ARABIC-INDIC DIGIT ONE
    "\uff21BC",  # FULLWIDTH LATIN CAPITAL LETTER A
    "\u212a",  # KELVIN SIGN
    "ABC\u00e9",
]


@pytest.mark.parametrize("sku", VALID_SKUS)
def test_valid_sku_is_accepted(sku: str) -> None:
    assert sku_problem(sku) is None
    assert then([], create(sku=sku)) == [
        ProductCreated(PRODUCT_ID, sku, "Widget", "A fine widget", EUR_10, T1)
    ]


@pytest.mark.parametrize("sku", INVALID_SKUS)
def test_invalid_sku_is_refused(sku: str) -> None:
    assert sku_problem(sku) == SKU_MESSAGE
    with pytest.raises(Rejected, match=exact(SKU_MESSAGE)):
        then([], create(sku=sku))


@given(st.from_regex(r"\A[A-Z0-9][A-Z0-9-]{0,31}\Z"))
def test_every_sku_matching_the_pattern_is_accepted(sku: str) -> None:
    assert sku_problem(sku) is None


_SKU_FIRST = set(string.ascii_uppercase + string.digits)
_SKU_REST = _SKU_FIRST | {"-"}


def _is_valid_sku(sku: str) -> bool:
    """The sku rule, stated without a regular expression."""
    return 1 <= len(sku) <= 32 and sku[0] in _SKU_FIRST and all(char in _SKU_REST for char in sku[1:])


@given(st.text(max_size=40) | st.text(alphabet=string.ascii_uppercase + string.digits + "-_\n ", max_size=40))
def test_sku_problem_agrees_with_the_rule_on_any_string(sku: str) -> None:
    assert (sku_problem(sku) is None) == _is_valid_sku(sku)


# --- name -------------------------------------------------------------------------------------------


def test_name_is_stored_trimmed() -> None:
    [event] = then([], create(name="  \tWidget \n"))
    assert isinstance(event, ProductCreated)
    assert event.name == "Widget"


def test_name_of_one_character_is_accepted() -> None:
    [event] = then([], create(name="W"))
    assert isinstance(event, ProductCreated)
    assert event.name == "W"


def test_name_of_200_characters_is_accepted() -> None:
    name = "n" * 200
    [event] = then([], create(name=name))
    assert isinstance(event, ProductCreated)
    assert event.name == name


def test_name_of_200_characters_after_trimming_is_accepted() -> None:
    name = "n" * 200
    [event] = then([], create(name=f"   {name}   "))
    assert isinstance(event, ProductCreated)
    assert event.name == name


@pytest.mark.parametrize("name", ["", " ", "   ", "\t\n ", "n" * 201, f"  {'n' * 201}  "])
def test_bad_name_on_create_is_refused(name: str) -> None:
    with pytest.raises(Rejected, match=exact(NAME_MESSAGE)):
        then([], create(name=name))


@pytest.mark.parametrize("name", ["", "   ", "n" * 201])
def test_bad_name_on_update_is_refused(name: str) -> None:
    with pytest.raises(Rejected, match=exact(NAME_MESSAGE)):
        then([CREATED], UpdateProduct(PRODUCT_ID, name, None, T1))


def test_a_name_of_a_million_blanks_around_one_letter_is_refused_before_trimming() -> None:
    with pytest.raises(Rejected, match=exact(RAW_NAME_MESSAGE)):
        then([], create(name=" " * 1_000_000 + "x"))
    with pytest.raises(Rejected, match=exact(RAW_NAME_MESSAGE)):
        then([CREATED], UpdateProduct(PRODUCT_ID, "x" + "\t" * 400, None, T1))


def test_a_name_of_400_characters_before_trimming_is_accepted() -> None:
    [event] = then([], create(name=" " * 200 + "n" * 200))
    assert isinstance(event, ProductCreated)
    assert event.name == "n" * 200


INVISIBLE_NAMES = [
    "\u200b",  # ZERO WIDTH SPACE
    " \u200b\u200b ",
    "\u200d\ufeff\u2060",  # ZERO WIDTH JOINER, BYTE ORDER MARK, WORD JOINER
    "\u3164",  # HANGUL FILLER
    "\u2800",  # BRAILLE PATTERN BLANK
    "\u0301",  # a combining accent with nothing to sit on
    "\ue000",  # a private-use character
]


@pytest.mark.parametrize("name", INVISIBLE_NAMES)
def test_a_name_without_a_visible_character_is_refused(name: str) -> None:
    with pytest.raises(Rejected, match=exact(INVISIBLE_NAME_MESSAGE)):
        then([], create(name=name))
    with pytest.raises(Rejected, match=exact(INVISIBLE_NAME_MESSAGE)):
        then([CREATED], UpdateProduct(PRODUCT_ID, name, None, T1))


@pytest.mark.parametrize("name", ["\u200bMug", "e\u0301", "\u2615", "\u65e5\u672c", "\u03a9", "1"])
def test_a_name_with_a_visible_character_is_accepted(name: str) -> None:
    assert name_problem(name) is None
    [event] = then([], create(name=name))
    assert isinstance(event, ProductCreated)
    assert event.name == name


# --- description ------------------------------------------------------------------------------------


@pytest.mark.parametrize("description", ["", "d", "d" * 5000])
def test_description_up_to_5000_characters_is_accepted(description: str) -> None:
    [event] = then([], create(description=description))
    assert isinstance(event, ProductCreated)
    assert event.description == description


def test_description_of_5001_characters_is_refused_on_create() -> None:
    with pytest.raises(Rejected, match=exact(DESCRIPTION_MESSAGE)):
        then([], create(description="d" * 5001))


def test_description_of_5001_characters_is_refused_on_update() -> None:
    with pytest.raises(Rejected, match=exact(DESCRIPTION_MESSAGE)):
        then([CREATED], UpdateProduct(PRODUCT_ID, None, "d" * 5001, T1))


def test_description_of_5000_characters_is_accepted_on_update() -> None:
    description = "d" * 5000
    assert then([CREATED], UpdateProduct(PRODUCT_ID, None, description, T1)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges(None, description), T1)
    ]


# --- price ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 1, 999_999_999, 1_000_000_000])
def test_price_amount_in_range_is_accepted(amount: int) -> None:
    [event] = then([], create(price=Money(amount, "EUR")))
    assert isinstance(event, ProductCreated)
    assert event.price == Money(amount, "EUR")


@pytest.mark.parametrize("amount", [-1, -1_000_000_000, 1_000_000_001, 10**18])
def test_price_amount_out_of_range_is_refused(amount: int) -> None:
    with pytest.raises(Rejected, match=exact(AMOUNT_RANGE_MESSAGE)):
        then([], create(price=Money(amount, "EUR")))


@pytest.mark.parametrize("amount", [True, False])
def test_price_amount_bool_is_refused(amount: bool) -> None:
    with pytest.raises(Rejected, match=exact(AMOUNT_TYPE_MESSAGE)):
        then([], create(price=Money(amount, "EUR")))


@pytest.mark.parametrize("amount", [10.0, 10.5, "10", None])
def test_price_amount_that_is_not_an_int_is_refused(amount: Any) -> None:
    with pytest.raises(Rejected, match=exact(AMOUNT_TYPE_MESSAGE)):
        then([], create(price=Money(amount, "EUR")))


@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY", "XXX"])
def test_iso_4217_currency_is_accepted(currency: str) -> None:
    [event] = then([], create(price=Money(100, currency)))
    assert isinstance(event, ProductCreated)
    assert event.price.currency == currency


@pytest.mark.parametrize("currency", ["eur", "Eur", "ABC", "", "EURO", "EU", " EUR", "EUR\n"])
def test_currency_that_is_not_iso_4217_is_refused(currency: str) -> None:
    with pytest.raises(Rejected, match=exact(CURRENCY_MESSAGE)):
        then([], create(price=Money(100, currency)))


def test_bad_price_on_change_is_refused() -> None:
    with pytest.raises(Rejected, match=exact(AMOUNT_RANGE_MESSAGE)):
        then([CREATED], ChangeProductPrice(PRODUCT_ID, Money(-1, "EUR"), T1))
    with pytest.raises(Rejected, match=exact(AMOUNT_TYPE_MESSAGE)):
        then([CREATED], ChangeProductPrice(PRODUCT_ID, Money(True, "EUR"), T1))
    with pytest.raises(Rejected, match=exact(CURRENCY_MESSAGE)):
        then([CREATED], ChangeProductPrice(PRODUCT_ID, Money(100, "eur"), T1))


# --- product must exist and be live -----------------------------------------------------------------

ON_A_PRODUCT = [
    pytest.param(UpdateProduct(PRODUCT_ID, "New name", None, T2), id="update"),
    pytest.param(ChangeProductPrice(PRODUCT_ID, EUR_20, T2), id="change-price"),
    pytest.param(DeleteProduct(PRODUCT_ID, T2), id="delete"),
]


@pytest.mark.parametrize("command", ON_A_PRODUCT)
def test_command_on_unknown_product_is_rejected(command: ProductCommand) -> None:
    with pytest.raises(Rejected, match=exact("product not found")):
        then([], command)


@pytest.mark.parametrize("command", ON_A_PRODUCT)
def test_command_on_deleted_product_is_rejected(command: ProductCommand) -> None:
    with pytest.raises(Rejected, match=exact("product deleted")):
        then([CREATED, DELETED], command)


@pytest.mark.parametrize("command", ON_A_PRODUCT)
def test_command_on_deleted_product_is_rejected_after_later_changes(command: ProductCommand) -> None:
    history: list[ProductEvent] = [
        CREATED,
        ProductUpdated(PRODUCT_ID, ProductChanges("Renamed", None), T1),
        DELETED,
    ]
    with pytest.raises(Rejected, match=exact("product deleted")):
        then(history, command)


def test_orphan_events_without_create_do_not_make_a_product() -> None:
    history: list[ProductEvent] = [
        ProductUpdated(PRODUCT_ID, ProductChanges("Renamed", "Text"), T0),
        ProductPriceChanged(PRODUCT_ID, EUR_20, T0),
    ]
    with pytest.raises(Rejected, match=exact("product not found")):
        then(history, UpdateProduct(PRODUCT_ID, "Other", None, T1))


# --- update -----------------------------------------------------------------------------------------


def test_update_of_name_only_yields_description_none() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, "Gadget", None, T2)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", None), T2)
    ]


def test_update_of_description_only_yields_name_none() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, None, "Now blue", T2)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges(None, "Now blue"), T2)
    ]


def test_update_of_both_yields_both() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, "Gadget", "Now blue", T2)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", "Now blue"), T2)
    ]


def test_update_stores_name_trimmed() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, "  Gadget\t", None, T2)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", None), T2)
    ]


def test_update_carries_only_what_changed() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, "Widget", "Now blue", T2)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges(None, "Now blue"), T2)
    ]
    assert then([CREATED], UpdateProduct(PRODUCT_ID, "Gadget", "A fine widget", T2)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", None), T2)
    ]


def test_update_to_empty_description_is_a_change() -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, None, "", T2)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges(None, ""), T2)
    ]


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("Widget", None),
        ("  Widget  ", None),
        (None, "A fine widget"),
        ("Widget", "A fine widget"),
        (" Widget\n", "A fine widget"),
    ],
)
def test_update_that_changes_nothing_yields_no_events(name: str | None, description: str | None) -> None:
    assert then([CREATED], UpdateProduct(PRODUCT_ID, name, description, T2)) == []


def test_update_compares_with_the_latest_values() -> None:
    history: list[ProductEvent] = [
        CREATED,
        ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", "Now blue"), T1),
    ]
    assert then(history, UpdateProduct(PRODUCT_ID, "Gadget", "Now blue", T2)) == []
    assert then(history, UpdateProduct(PRODUCT_ID, "Widget", "A fine widget", T2)) == [
        ProductUpdated(PRODUCT_ID, ProductChanges("Widget", "A fine widget"), T2)
    ]


def test_update_with_neither_name_nor_description_is_rejected() -> None:
    command = UpdateProduct(PRODUCT_ID, None, None, T2)
    assert problems(command) == [NOTHING_TO_UPDATE_MESSAGE]
    with pytest.raises(Rejected, match=exact(NOTHING_TO_UPDATE_MESSAGE)):
        then([CREATED], command)


# --- change price -----------------------------------------------------------------------------------


def test_change_price_yields_price_changed() -> None:
    assert then([CREATED], ChangeProductPrice(PRODUCT_ID, EUR_20, T2)) == [
        ProductPriceChanged(PRODUCT_ID, EUR_20, T2)
    ]


def test_change_of_currency_only_is_a_change() -> None:
    assert then([CREATED], ChangeProductPrice(PRODUCT_ID, Money(1000, "USD"), T2)) == [
        ProductPriceChanged(PRODUCT_ID, Money(1000, "USD"), T2)
    ]


def test_change_to_the_same_price_yields_no_events() -> None:
    assert then([CREATED], ChangeProductPrice(PRODUCT_ID, Money(1000, "EUR"), T2)) == []


def test_change_price_compares_with_the_latest_price() -> None:
    history: list[ProductEvent] = [CREATED, ProductPriceChanged(PRODUCT_ID, EUR_20, T1)]
    assert then(history, ChangeProductPrice(PRODUCT_ID, EUR_20, T2)) == []
    assert then(history, ChangeProductPrice(PRODUCT_ID, EUR_10, T2)) == [
        ProductPriceChanged(PRODUCT_ID, EUR_10, T2)
    ]


def test_change_to_zero_is_a_change() -> None:
    assert then([CREATED], ChangeProductPrice(PRODUCT_ID, Money(0, "EUR"), T2)) == [
        ProductPriceChanged(PRODUCT_ID, Money(0, "EUR"), T2)
    ]


# --- delete -----------------------------------------------------------------------------------------


def test_delete_yields_product_deleted_with_the_sku() -> None:
    assert then([CREATED], DeleteProduct(PRODUCT_ID, T2)) == [ProductDeleted(PRODUCT_ID, "WIDGET-1", T2)]


def test_delete_carries_the_sku_after_other_changes() -> None:
    history: list[ProductEvent] = [
        CREATED,
        ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", "Now blue"), T1),
        ProductPriceChanged(PRODUCT_ID, EUR_20, T1),
    ]
    assert then(history, DeleteProduct(PRODUCT_ID, T2)) == [ProductDeleted(PRODUCT_ID, "WIDGET-1", T2)]


def test_deleting_twice_is_rejected() -> None:
    with pytest.raises(Rejected, match=exact("product deleted")):
        then([CREATED, DELETED], DeleteProduct(PRODUCT_ID, T2))


# --- evolve -----------------------------------------------------------------------------------------


def test_evolve_tracks_the_state() -> None:
    state = decider.fold(
        [
            CREATED,
            ProductUpdated(PRODUCT_ID, ProductChanges("Gadget", None), T1),
            ProductUpdated(PRODUCT_ID, ProductChanges(None, "Now blue"), T1),
            ProductPriceChanged(PRODUCT_ID, EUR_20, T1),
        ]
    )
    assert state == Product(True, False, "WIDGET-1", "Gadget", "Now blue", EUR_20)
    assert evolve(state, DELETED) == Product(True, True, "WIDGET-1", "Gadget", "Now blue", EUR_20)


def test_fold_of_no_events_is_the_initial_state() -> None:
    assert decider.fold([]) == Product()
    assert decider.initial_state == Product()


_texts = st.text(max_size=20)
_datetimes = st.datetimes(timezones=st.just(UTC)) | st.datetimes()
_money = st.builds(Money, amount=st.integers(), currency=_texts)
_ids = st.sampled_from([PRODUCT_ID, OTHER_ID]) | _texts
_events: st.SearchStrategy[ProductEvent] = st.one_of(
    st.builds(ProductCreated, _ids, _texts, _texts, _texts, _money, _datetimes, st.lists(_texts).map(tuple)),
    st.builds(
        ProductUpdated,
        _ids,
        st.builds(
            ProductChanges, st.none() | _texts, st.none() | _texts, st.none() | st.lists(_texts).map(tuple)
        ),
        _datetimes,
    ),
    st.builds(ProductPriceChanged, _ids, _money, _datetimes),
    st.builds(ProductDeleted, _ids, _texts, _datetimes),
)


@given(st.lists(_events, max_size=20))
def test_evolve_never_raises(events: list[ProductEvent]) -> None:
    state = decider.fold(events)
    assert isinstance(state, Product)


@given(st.lists(_events, max_size=20))
def test_fold_is_evolve_step_by_step(events: list[ProductEvent]) -> None:
    state = Product()
    for event in events:
        state = evolve(state, event)
    assert decider.fold(events) == state


# --- problems ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        create(),
        create(sku="A", name="n" * 200, description="d" * 5000, price=Money(0, "XXX")),
        UpdateProduct(PRODUCT_ID, "Gadget", None, T2),
        UpdateProduct(PRODUCT_ID, None, "", T2),
        UpdateProduct(PRODUCT_ID, "Gadget", "Now blue", T2),
        ChangeProductPrice(PRODUCT_ID, Money(1_000_000_000, "JPY"), T2),
        DeleteProduct(PRODUCT_ID, T2),
    ],
)
def test_problems_of_valid_command_is_empty(command: ProductCommand) -> None:
    assert problems(command) == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (create(sku="bad"), [SKU_MESSAGE]),
        (create(name="   "), [NAME_MESSAGE]),
        (create(description="d" * 5001), [DESCRIPTION_MESSAGE]),
        (create(price=Money(-1, "EUR")), [AMOUNT_RANGE_MESSAGE]),
        (create(price=Money(True, "EUR")), [AMOUNT_TYPE_MESSAGE]),
        (create(price=Money(1, "eur")), [CURRENCY_MESSAGE]),
        (
            create(sku="", name="", description="d" * 5001, price=Money(1_000_000_001, "EUR")),
            [SKU_MESSAGE, NAME_MESSAGE, DESCRIPTION_MESSAGE, AMOUNT_RANGE_MESSAGE],
        ),
        (UpdateProduct(PRODUCT_ID, None, None, T2), [NOTHING_TO_UPDATE_MESSAGE]),
        (UpdateProduct(PRODUCT_ID, "", None, T2), [NAME_MESSAGE]),
        (UpdateProduct(PRODUCT_ID, None, "d" * 5001, T2), [DESCRIPTION_MESSAGE]),
        (UpdateProduct(PRODUCT_ID, "n" * 201, "d" * 5001, T2), [NAME_MESSAGE, DESCRIPTION_MESSAGE]),
        (ChangeProductPrice(PRODUCT_ID, Money(1_000_000_001, "EUR"), T2), [AMOUNT_RANGE_MESSAGE]),
        (ChangeProductPrice(PRODUCT_ID, Money(1, ""), T2), [CURRENCY_MESSAGE]),
    ],
)
def test_problems_lists_one_message_per_broken_rule(command: ProductCommand, expected: list[str]) -> None:
    assert problems(command) == expected


def test_rejection_names_every_broken_rule() -> None:
    command = create(sku="-A", name="", description="d" * 5001, price=Money(5, "ABC"))
    with pytest.raises(Rejected) as info:
        then([], command)
    assert str(info.value) == "; ".join(problems(command))
    for message in (SKU_MESSAGE, NAME_MESSAGE, DESCRIPTION_MESSAGE, CURRENCY_MESSAGE):
        assert message in str(info.value)


def test_stateless_rules_are_checked_before_existence() -> None:
    with pytest.raises(Rejected, match=exact(NOTHING_TO_UPDATE_MESSAGE)):
        then([], UpdateProduct(PRODUCT_ID, None, None, T2))


def test_decider_lists_every_command_and_event() -> None:
    assert decider.stream_type == "Product"
    assert set(decider.commands) == {CreateProduct, UpdateProduct, ChangeProductPrice, DeleteProduct}
    assert set(decider.events) == {ProductCreated, ProductUpdated, ProductPriceChanged, ProductDeleted}
    assert decider.problems is problems


def test_nul_characters_are_refused_in_names_and_descriptions() -> None:
    assert name_problem("a\x00b") == "name must not contain NUL characters"
    assert description_problem("a\x00") == "description must not contain NUL characters"
