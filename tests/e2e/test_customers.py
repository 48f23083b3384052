"""Customers over HTTP against `eventshop up` (real workers, projector and beat): personal data
sealed everywhere it is stored, read by its owner, exported, and forgotten for good — after which
no byte of it is in the database (a `pg_dump`, or the SQLite files), the logs, rebuilds or the feed."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from store import settings
from tests import auth
from tests.e2e.client import Client, wait_for
from tests.e2e.test_orders import PLACE, stocked
from workers import rebuild
from workers.verify import verify

REGISTER = """mutation($input: RegisterCustomerInput!) {
    registerCustomer(input: $input, wait: VISIBLE) { aggregateId status error } }"""
MOVE = """mutation($id: ID!, $address: String!) {
    changeCustomerAddress(input: {id: $id, address: $address}, wait: VISIBLE) { status error } }"""
FORGET = """mutation($id: ID!) { forgetCustomer(input: {id: $id}, wait: VISIBLE) { status error } }"""
CUSTOMER = """query($id: ID!) { customer(id: $id) { id name email address forgotten version } }"""
DATA = """query($id: ID!) { customerData(id: $id) }"""
FEED = """query($id: ID!) { events(streamId: $id) { edges { node { type data schemaVersion } } } }"""
ORDER_OF = """query($id: ID!) { order(id: $id) { id customerId } }"""
PERSONAL = """{ customer: __type(name: "Customer") { fields { name isPersonalData } }
    input: __type(name: "RegisterCustomerInput") { inputFields { name isPersonalData } } }"""


def person() -> dict[str, str]:
    """Values no other test writes, so finding one anywhere means it leaked."""
    mark = uuid.uuid4().hex[:12]
    return {"name": f"Ada Byron {mark}", "email": f"ada.{mark}@example.com", "address": f"{mark} Loop Road"}


def dump(url: str) -> bytes:
    """Every byte the database holds: `pg_dump` of PostgreSQL, or SQLite's files (WAL included)."""
    found = make_url(url)
    if found.get_backend_name() == "postgresql":
        target = found.set(drivername="postgresql").render_as_string(hide_password=False)
        return subprocess.run(
            ["pg_dump", "--no-owner", target], capture_output=True, check=True, timeout=120
        ).stdout
    path = Path(str(found.database))
    return b"".join(file.read_bytes() for file in path.parent.glob(f"{path.name}*") if file.is_file())


def leaked(blob: bytes, values: list[str]) -> list[str]:
    return [value for value in values if value.encode() in blob or value.split()[-1].encode() in blob]


def test_personal_data_is_sealed_read_by_its_owner_and_forgotten_for_good(
    system: Client, system_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = Client(system.base, credential=auth.token("alice-pd", ("orders:write",)))
    mallory = Client(system.base, credential=auth.token("mallory-pd", ("orders:write",)))
    clerk = Client(system.base, credential=auth.token("clerk-pd", ("orders:admin",)))
    auditor = Client(system.base, credential=auth.token("auditor-pd", ("customers:admin",)))
    given = person()
    moved = f"{uuid.uuid4().hex[:12]} Engine Street"
    registered = alice.data(REGISTER, input=given)["registerCustomer"]
    assert (registered["status"], registered["error"]) == ("SUCCEEDED", None)
    customer_id = registered["aggregateId"]

    # its owner (and orders:admin) reads it; another subject finds nothing
    own = alice.data(CUSTOMER, id=customer_id)["customer"]
    assert own == {"id": customer_id, **given, "forgotten": False, "version": 1}
    assert clerk.data(CUSTOMER, id=customer_id)["customer"] == own
    assert mallory.data(CUSTOMER, id=customer_id)["customer"] is None
    assert mallory.data(MOVE, id=customer_id, address="x")["changeCustomerAddress"]["status"] == "REJECTED"
    assert alice.data(MOVE, id=customer_id, address=moved)["changeCustomerAddress"]["status"] == "SUCCEEDED"
    assert alice.data(CUSTOMER, id=customer_id)["customer"]["address"] == moved

    # the right of access: the customer's own subject, or customers:admin
    exported = alice.data(DATA, id=customer_id)["customerData"]
    assert exported == auditor.data(DATA, id=customer_id)["customerData"]
    assert clerk.data(DATA, id=customer_id)["customerData"] is None
    assert [e["type"] for e in exported["events"]] == ["CustomerRegistered", "CustomerAddressChanged"]
    assert exported["events"][0]["data"]["email"] == given["email"]
    assert exported["commands"][-1]["payload"]["address"] == moved
    assert "x" not in [c["payload"].get("address") for c in exported["commands"]]  # mallory's refused try
    assert exported["customer"]["address"] == moved

    # the feed never carries personal data; the database holds it sealed, never plain
    feed = system.data(FEED, id=customer_id)["events"]["edges"]
    assert feed[0]["node"]["data"]["name"] is None and feed[0]["node"]["data"]["owner"] == "alice-pd"
    values = [*given.values(), moved]
    assert leaked(dump(system_database), values) == []

    # forgotten: null for every reader, for good
    assert alice.data(FORGET, id=customer_id)["forgetCustomer"]["status"] == "SUCCEEDED"
    gone = {"id": customer_id, "name": None, "email": None, "address": None, "forgotten": True, "version": 3}
    assert alice.data(CUSTOMER, id=customer_id)["customer"] == gone
    after = auditor.data(DATA, id=customer_id)["customerData"]
    assert after["key"]["forgottenAt"] is not None
    assert all(e["data"].get(f) is None for e in after["events"] for f in ("name", "email", "address"))
    assert all(c["payload"].get(f) is None for c in after["commands"] for f in ("name", "email", "address"))
    refused = alice.gql(MOVE, id=customer_id, address="back again")
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    again = alice.gql(REGISTER, input={**given, "id": customer_id})
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    # a rebuild cannot bring it back, verify finds everything sound, and nothing is left anywhere
    monkeypatch.setenv("DATABASE_URL", system_database)
    rebuild.rebuild(settings.load(), "customers", lambda *_: None)
    assert alice.data(CUSTOMER, id=customer_id)["customer"] == gone
    report = verify(system_database)
    assert not [v for v in report.violations if "personal" in v], report.violations
    assert leaked(dump(system_database), values) == []
    assert system.log is not None and leaked(system.log.read_bytes(), values) == []


def test_bad_personal_data_is_refused_without_repeating_it(system: Client) -> None:
    alice = Client(system.base, credential=auth.token("alice-bad", ("orders:write",)))
    secret = f"not-an-email-{uuid.uuid4().hex[:8]}"
    body = alice.gql(REGISTER, input={"name": "Ada", "email": secret})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert secret not in str(body)
    unknown = alice.gql(MOVE, id=str(uuid.uuid4()), address="1 Road")
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    reader = Client(system.base, credential=auth.token("reader-pd", ()))
    assert reader.gql(REGISTER, input=person())["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_introspection_shows_which_fields_hold_personal_data(system: Client) -> None:
    found: Any = system.data(PERSONAL)
    marked = {f["name"] for f in found["customer"]["fields"] if f["isPersonalData"]}
    assert marked == {"name", "email", "address"}
    assert {f["name"] for f in found["input"]["inputFields"] if f["isPersonalData"]} == marked


def test_an_order_keeps_a_forgotten_customers_id(system: Client) -> None:
    alice = Client(system.base, credential=auth.token("alice-order", ("orders:write",)))
    customer_id = alice.data(REGISTER, input=person())["registerCustomer"]["aggregateId"]
    sku = stocked(system, 3)
    placed = alice.data(PLACE, customer=customer_id, lines=[{"sku": sku, "quantity": 1}])["placeOrder"]
    assert alice.data(FORGET, id=customer_id)["forgetCustomer"]["status"] == "SUCCEEDED"
    order = wait_for(
        lambda: alice.data(ORDER_OF, id=placed["aggregateId"])["order"], 30, "the order to be listed"
    )
    assert order["customerId"] == customer_id
