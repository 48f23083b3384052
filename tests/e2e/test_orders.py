"""Orders and stock over HTTP against `eventshop up` (real workers, projector and beat): an order's
life through the process manager, its trace, ownership, and bad input that holds no stock."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp

from tests import auth
from tests.e2e.client import Client, wait_for

CREATE = """mutation($sku: String!, $amount: Int!, $currency: String!) {
    createProduct(input: {sku: $sku, name: "Mug", price: {amount: $amount, currency: $currency}},
    wait: VISIBLE) { status } }"""
RECEIVE = """mutation($sku: String!, $quantity: Int!) {
    receiveStock(input: {sku: $sku, quantity: $quantity}, wait: VISIBLE) { status error } }"""
PLACE = """mutation($customer: ID!, $lines: [OrderLineInput!]!) {
    placeOrder(input: {customerId: $customer, lines: $lines}, wait: HANDLED) { aggregateId status error } }"""
PAY = """mutation($id: ID!, $amount: Int!) {
    payOrder(input: {id: $id, amount: {amount: $amount, currency: "EUR"}}, wait: HANDLED)
    { status error } }"""
CANCEL = (
    """mutation($id: ID!) { cancelOrder(input: {id: $id, reason: "no"}, wait: HANDLED) { status error } }"""
)
ORDER = """query($id: ID!) { order(id: $id) { id status reason total { amount currency }
    lines { sku quantity unitPrice { amount currency } } paymentDueAt correlationId version } }"""
STOCK = """query($sku: String!) { stock(sku: $sku) { onHand reserved available } }"""
TRACE = """query($id: ID!) { trace(correlationId: $id) { settled
    commands { type status correlationId causationId } events { type } } }"""


def new_sku(currency: str = "EUR") -> str:
    return f"ORD-{currency}-{uuid.uuid4().hex[:8].upper()}"


def stocked(system: Client, quantity: int, amount: int = 1299, currency: str = "EUR") -> str:
    sku = new_sku(currency)
    assert (
        system.data(CREATE, sku=sku, amount=amount, currency=currency)["createProduct"]["status"]
        == "SUCCEEDED"
    )
    assert system.data(RECEIVE, sku=sku, quantity=quantity)["receiveStock"]["status"] == "SUCCEEDED"
    return sku


def place(client: Client, *lines: tuple[str, int]) -> dict[str, Any]:
    given = [{"sku": sku, "quantity": quantity} for sku, quantity in lines]
    body = client.gql(PLACE, customer=str(uuid.uuid4()), lines=given)
    return body


def status_of(client: Client, order_id: str, wanted: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        found = client.data(ORDER, id=order_id)["order"]
        return found if found is not None and found["status"] == wanted else None

    return wait_for(reached, 30, f"order {order_id} to be {wanted}")


def test_an_order_is_reserved_paid_and_traced_end_to_end(system: Client) -> None:
    sku = stocked(system, 5)
    receipt = place(system, (sku, 2))["data"]["placeOrder"]
    assert receipt["status"] == "SUCCEEDED", receipt
    order = status_of(system, receipt["aggregateId"], "RESERVED")
    assert order["total"] == {"amount": 2598, "currency": "EUR"} and order["paymentDueAt"] is not None
    assert order["lines"] == [{"sku": sku, "quantity": 2, "unitPrice": {"amount": 1299, "currency": "EUR"}}]
    assert system.data(STOCK, sku=sku)["stock"] == {"onHand": 5, "reserved": 2, "available": 3}
    paid = system.data(PAY, id=order["id"], amount=2598)["payOrder"]
    assert paid == {"status": "SUCCEEDED", "error": None}
    status_of(system, order["id"], "CONFIRMED")

    def settled() -> dict[str, Any] | None:
        found: dict[str, Any] = system.data(TRACE, id=order["correlationId"])["trace"]
        return found if found["settled"] and len(found["commands"]) == 4 else None

    trace = wait_for(settled, 30, "the order's trace to settle")
    assert [c["type"] for c in trace["commands"]] == [
        "PlaceOrder",
        "ReserveStock",
        "MarkOrderReserved",
        "CommitStock",
    ]
    assert {c["correlationId"] for c in trace["commands"]} == {order["correlationId"]}
    assert trace["commands"][0]["causationId"] is None and all(
        c["causationId"] for c in trace["commands"][1:]
    )
    assert [e["type"] for e in trace["events"]] == [
        "OrderPlaced",
        "StockReserved",
        "OrderReserved",
        "StockCommitted",
    ]
    assert system.data(STOCK, sku=sku)["stock"] == {"onHand": 5, "reserved": 2, "available": 3}


def test_an_order_beyond_the_stock_is_rejected_and_holds_nothing(system: Client) -> None:
    plenty, scarce = stocked(system, 10), stocked(system, 1)
    receipt = place(system, (plenty, 3), (scarce, 2))["data"]["placeOrder"]
    order = status_of(system, receipt["aggregateId"], "REJECTED")
    assert order["reason"] == f"{scarce}: 2 asked, 1 available"
    wait_for(
        lambda: system.data(STOCK, sku=plenty)["stock"]["reserved"] == 0, 30, "the held line to be released"
    )
    assert system.data(STOCK, sku=scarce)["stock"]["reserved"] == 0


def test_bad_orders_are_refused_with_a_clear_error_and_record_nothing(system: Client) -> None:
    sku, other = stocked(system, 5), stocked(system, 5)
    dollars = stocked(system, 5, 100, "USD")
    cases = {
        "no lines": [],
        "zero quantity": [(sku, 0)],
        "negative quantity": [(sku, -1)],
        "unknown sku": [("NO-SUCH-SKU", 1)],
        "duplicate sku": [(sku, 1), (sku, 2)],
        "51 lines": [(sku, 1)] * 51,
        "mixed currencies": [(sku, 1), (dollars, 1)],
    }
    for name, lines in cases.items():
        body = place(system, *lines)
        assert body["data"] is None or body["data"].get("placeOrder") is None, (name, body)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (name, error)
    for checked in (sku, other, dollars):
        assert system.data(STOCK, sku=checked)["stock"]["reserved"] == 0


def test_only_its_placer_or_an_orders_admin_may_read_pay_and_cancel_an_order(system: Client) -> None:
    sku = stocked(system, 5)
    alice = Client(system.base, credential=auth.token("alice", ("orders:write",)))
    mallory = Client(system.base, credential=auth.token("mallory", ("orders:write",)))
    clerk = Client(system.base, credential=auth.token("clerk", ("orders:admin",)))
    order_id = place(alice, (sku, 1))["data"]["placeOrder"]["aggregateId"]
    status_of(alice, order_id, "RESERVED")
    assert mallory.data(ORDER, id=order_id)["order"] is None
    assert mallory.data("{ orders { totalCount } }")["orders"]["totalCount"] == 0
    wrong = alice.data(PAY, id=order_id, amount=1)["payOrder"]
    assert wrong["status"] == "REJECTED" and "must equal the order's total" in wrong["error"]
    theirs = mallory.data(CANCEL, id=order_id)["cancelOrder"]
    assert theirs["status"] == "REJECTED" and "only whoever placed an order" in theirs["error"]
    assert clerk.data(CANCEL, id=order_id)["cancelOrder"]["status"] == "SUCCEEDED"
    status_of(alice, order_id, "CANCELLED")
    wait_for(lambda: alice.data(STOCK, sku=sku)["stock"]["reserved"] == 0, 30, "the stock to be released")
    reader = Client(system.base, credential=auth.token("reader", ()))
    forbidden = reader.gql(PLACE, customer=str(uuid.uuid4()), lines=[{"sku": sku, "quantity": 1}])
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    stocker = reader.gql(RECEIVE, sku=sku, quantity=1)
    assert stocker["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_order_changed_follows_an_order_over_websocket_for_its_placer_only(system: Client) -> None:
    sku = stocked(system, 5)
    alice = Client(system.base, credential=auth.token("alice-ws", ("orders:write",)))
    order_id = place(alice, (sku, 1))["data"]["placeOrder"]["aggregateId"]
    url = system.base.replace("http", "ws", 1) + "/graphql"
    query = "subscription($id: ID!) { orderChanged(id: $id) { status version } }"

    async def follow(credential: str, until: str | None) -> list[Any]:
        seen: list[Any] = []
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(url, protocols=("graphql-transport-ws",))
            await socket.send_json({"type": "connection_init", "payload": {"token": credential}})
            assert (await socket.receive_json(timeout=10))["type"] == "connection_ack"
            await socket.send_json(
                {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": order_id}}}
            )
            while True:
                message = await socket.receive_json(timeout=30)
                seen.append(message["payload"]["data"]["orderChanged"])
                if until is None or (seen[-1] and seen[-1]["status"] == until):
                    await socket.close()
                    return seen

    seen = asyncio.run(follow(alice.credential or "", "RESERVED"))  # null first if not projected yet
    shown = [found for found in seen if found is not None]
    assert shown[-1]["status"] == "RESERVED"
    assert [found["version"] for found in shown] == sorted({found["version"] for found in shown})
    assert asyncio.run(follow(auth.token("mallory-ws", ("orders:write",)), None)) == [None]
