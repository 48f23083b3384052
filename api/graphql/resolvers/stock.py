"""The stock's resolvers: a sku's stock, and receiving units."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import Resolver

from api.graphql.errors import UserInputError
from api.graphql.resolvers.common import Args, consistent, submit
from api.graphql.schema_name import SCHEMA_NAME
from api.read import orders
from api.write.commands import command_id, now
from domain.stock import ReceiveStock, sku_problem


@Resolver("Query.stock", schema_name=SCHEMA_NAME)
async def stock(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    await consistent(args, ctx, orders.STOCK, "the stock")
    return await asyncio.to_thread(orders.stock_item, ctx["database"], args["sku"])


@Resolver("Mutation.receiveStock", schema_name=SCHEMA_NAME)
async def receive_stock(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    receive = ReceiveStock(data["sku"], data["quantity"], now())
    if problem := sku_problem(data["sku"]):  # before the catalog is read, and never echoed
        raise UserInputError(problem)
    if not await asyncio.to_thread(orders.prices, ctx["database"], [data["sku"]]):
        raise UserInputError(f"sku {data['sku']} is not in the catalog")
    return await submit(ctx, args, receive, command_id(data.get("commandId")))
