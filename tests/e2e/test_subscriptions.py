"""Subscriptions through the reference client (`graphql-ws`, run by Node) against the real system:
commandUpdated, productChanged, and the event feed resumed after a reconnect."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import Client


@pytest.fixture(scope="module")
def findings(system: Client, node_scripts: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(node_scripts / "scenarios.mjs"), f"{system.base}/graphql", system.credential or ""],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_query_and_a_mutation_run_over_the_socket(findings: dict[str, Any]) -> None:
    assert findings["query"] == [{"data": {"__typename": "Query"}}]
    assert findings["mutationStatus"] == "SUCCEEDED"


def test_command_updated_ends_with_the_terminal_status_and_its_token(findings: dict[str, Any]) -> None:
    assert findings["commandUpdated"] in (["PENDING", "SUCCEEDED"], ["SUCCEEDED"])
    assert findings["commandToken"] and findings["commandToken"].isdigit()


def test_product_changed_follows_the_read_model_until_the_delete(findings: dict[str, Any]) -> None:
    assert findings["productChanged"] == [
        {"version": 1, "price": {"amount": 100}},
        {"version": 2, "price": {"amount": 250}},
        {"version": 3, "price": {"amount": 300}},
        None,
    ]


def test_events_resumed_after_a_reconnect_have_no_gap_and_no_repeat(findings: dict[str, Any]) -> None:
    start = int(findings["start"])
    assert findings["events"] == list(range(start + 1, start + 9))


def test_a_refusal_reaches_the_client_as_an_error(findings: dict[str, Any]) -> None:
    assert "BAD_USER_INPUT" in findings["badCursor"]
