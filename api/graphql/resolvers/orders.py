"""The orders' resolvers: an order (one's own, or any with orders:admin), pages of them, and
placing, paying and cancelling one."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import Resolver

from api.graphql.errors import UserInputError
from api.graphql.resolvers.common import Args, consistent, money, required_id, submit, total_count
from api.graphql.schema_name import SCHEMA_NAME
from api.read import orders
from api.security.auth import order_owner
from api.write.commands import command_id, new_aggregate_id, now, uuid_or_none
from domain.money import Money
from domain.order import MAX_LINES, CancelOrder, OrderLine, PayOrder, PlaceOrder
from domain.stock import sku_problem


def _owner(ctx: Args) -> str | None:
    return order_owner(ctx["actor"], ctx["auth_required"])


@Resolver("Query.order", schema_name=SCHEMA_NAME)
async def order(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    await consistent(args, ctx, orders.ORDERS_PROJECTION, "the orders")
    return await asyncio.to_thread(orders.order, ctx["database"], args["id"], _owner(ctx), args.get("asOf"))


@Resolver("Query.orders", schema_name=SCHEMA_NAME)
async def order_page(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    await consistent(args, ctx, orders.ORDERS_PROJECTION, "the orders")
    return await asyncio.to_thread(
        orders.order_page,
        ctx["database"],
        _owner(ctx),
        args.get("first"),
        args.get("after"),
        args.get("status"),
        args.get("customerId"),
    )


Resolver("OrderConnection.totalCount", schema_name=SCHEMA_NAME)(total_count)


async def _lines(ctx: Args, given: list[Args]) -> tuple[OrderLine, ...]:
    """The lines with each sku's price now; a sku the catalog does not hold is BAD_USER_INPUT."""
    skus = [line["sku"] for line in given]
    if problem := next(filter(None, map(sku_problem, skus)), None):  # before the catalog is read
        raise UserInputError(problem)
    found = await asyncio.to_thread(orders.prices, ctx["database"], skus)
    if unknown := sorted({sku for sku in skus if sku not in found})[:5]:
        raise UserInputError(f"not in the catalog: {', '.join(unknown)}")
    return tuple(OrderLine(line["sku"], line["quantity"], Money(*found[line["sku"]])) for line in given)


@Resolver("Mutation.placeOrder", schema_name=SCHEMA_NAME)
async def place_order(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    cid = command_id(data.get("commandId"))
    order_id = new_aggregate_id(uuid_or_none(data.get("id"), "id"), cid, data.get("commandId") is not None)
    customer = required_id(data["customerId"], "customerId")
    if not 1 <= len(data["lines"]) <= MAX_LINES:  # before the catalog is read for them
        raise UserInputError(f"an order needs 1 to {MAX_LINES} lines")
    place = PlaceOrder(order_id, customer, ctx["actor"].subject, await _lines(ctx, data["lines"]), now())
    return await submit(ctx, args, place, cid)


@Resolver("Mutation.payOrder", schema_name=SCHEMA_NAME)
async def pay_order(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    pay = PayOrder(required_id(data["id"]), money(data["amount"]), _owner(ctx), now())
    return await submit(ctx, args, pay, command_id(data.get("commandId")))


@Resolver("Mutation.cancelOrder", schema_name=SCHEMA_NAME)
async def cancel_order(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    cancel = CancelOrder(required_id(data["id"]), data.get("reason"), _owner(ctx), now())
    return await submit(ctx, args, cancel, command_id(data.get("commandId")))
