"""The registry refuses a name claimed twice, naming both claimants, and finds a command's decider."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from domain import product
from store import registry


def test_a_second_aggregate_of_the_same_stream_type_is_refused() -> None:
    with pytest.raises(registry.RegistryError, match="the stream type 'Product' is registered twice"):
        registry.build([product.decider, product.decider])


def test_a_command_or_event_another_aggregate_registered_is_refused() -> None:
    other = dataclasses.replace(product.decider, stream_type="Other", events=())
    with pytest.raises(registry.RegistryError, match="the command 'CreateProduct' is registered twice"):
        registry.build([product.decider, other])
    other = dataclasses.replace(product.decider, stream_type="Other", commands=())
    twice = r"the event \('ProductCreated', 2\) is registered twice"
    with pytest.raises(registry.RegistryError, match=twice):
        registry.build([product.decider, other])


def test_a_command_names_its_aggregate_through_its_decider() -> None:
    command = product.DeleteProduct("p-1", datetime.now(UTC))
    decider = registry.decider_of(command)
    assert decider is product.decider and decider.id_of(command) == "p-1"
