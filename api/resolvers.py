"""Tartiflette resolvers: decode arguments, call a plain function, return its result."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import Resolver

from api import catalog, queries
from api.commands import command_id, new_aggregate_id, now, uuid_or_none
from api.errors import StaleReadError
from api.schema_name import SCHEMA_NAME
from domain.product import ChangeProductPrice, CreateProduct, DeleteProduct, Money, UpdateProduct

Args = dict[str, Any]


def _money(price: Args) -> Money:
    return Money(price["amount"], price["currency"])


def _id(value: str) -> str:
    product_id = uuid_or_none(value, "id")
    assert product_id is not None
    return product_id


async def _submit(ctx: Args, args: Args, command: Any, cid: str) -> Any:
    """Submit `command` as the request's actor, in its correlation, waiting as asked."""
    return await ctx["commands"].submit(command, cid, args["wait"], ctx["actor"], ctx["correlation_id"])


async def _consistent(args: Args, ctx: Args) -> None:
    """Wait until the products read model has passed `consistentWith`, or raise STALE_READ."""
    if args.get("consistentWith") is None:
        return
    position = queries.decode_token(args["consistentWith"])
    if not await ctx["watcher"].reached(position, queries.PRODUCTS, ctx["wait_timeout"]):
        raise StaleReadError(
            f"the catalog has not caught up with that token within {ctx['wait_timeout']:g} s; retry later"
        )


@Resolver("Query.product", schema_name=SCHEMA_NAME)
async def product(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    await _consistent(args, ctx)
    return await asyncio.to_thread(
        queries.product, ctx["database"], args["id"], args.get("asOf"), args.get("version")
    )


@Resolver("Query.products", schema_name=SCHEMA_NAME)
async def products(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    await _consistent(args, ctx)
    return await asyncio.to_thread(
        queries.product_page,
        ctx["database"],
        args.get("first"),
        args.get("after"),
        args.get("filter"),
        args.get("orderBy"),
        args.get("asOf"),
    )


@Resolver("ProductConnection.totalCount", schema_name=SCHEMA_NAME)
async def total_count(parent: Args, _args: Args, _ctx: Args, _info: Any) -> Any:
    """Counted only when asked for: a count is the one part of a page that reads every match."""
    return await asyncio.to_thread(catalog.count, *parent["count"])


@Resolver("Query.command", schema_name=SCHEMA_NAME)
async def command(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    return await asyncio.to_thread(queries.command, ctx["database"], args["id"])


@Resolver("Query.productHistory", schema_name=SCHEMA_NAME)
async def product_history(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    return await asyncio.to_thread(
        queries.history, ctx["database"], args["id"], args.get("first"), args.get("after")
    )


@Resolver("Query.events", schema_name=SCHEMA_NAME)
async def events(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    return await asyncio.to_thread(
        queries.event_page,
        ctx["database"],
        args.get("after"),
        args.get("first"),
        args.get("types"),
        args.get("streamId"),
    )


@Resolver("Mutation.createProduct", schema_name=SCHEMA_NAME)
async def create_product(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    cid = command_id(data.get("commandId"))
    product_id = new_aggregate_id(uuid_or_none(data.get("id"), "id"), cid, data.get("commandId") is not None)
    description = data.get("description") or ""
    create = CreateProduct(product_id, data["sku"], data["name"], description, _money(data["price"]), now())
    return await _submit(ctx, args, create, cid)


@Resolver("Mutation.updateProduct", schema_name=SCHEMA_NAME)
async def update_product(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    update = UpdateProduct(_id(data["id"]), data.get("name"), data.get("description"), now())
    return await _submit(ctx, args, update, command_id(data.get("commandId")))


@Resolver("Mutation.changeProductPrice", schema_name=SCHEMA_NAME)
async def change_product_price(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    change = ChangeProductPrice(_id(data["id"]), _money(data["price"]), now())
    return await _submit(ctx, args, change, command_id(data.get("commandId")))


@Resolver("Mutation.deleteProduct", schema_name=SCHEMA_NAME)
async def delete_product(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    delete = DeleteProduct(_id(data["id"]), now())
    return await _submit(ctx, args, delete, command_id(data.get("commandId")))
