"""The catalog's resolvers: products, their history, and the product mutations."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import Resolver

from api.graphql.resolvers.common import Args, consistent, money, required_id, submit, total_count
from api.graphql.schema_name import SCHEMA_NAME
from api.read import queries
from api.write.commands import command_id, new_aggregate_id, now, uuid_or_none
from domain.product import ChangeProductPrice, CreateProduct, DeleteProduct, UpdateProduct


async def _consistent(args: Args, ctx: Args) -> None:
    await consistent(args, ctx, queries.PRODUCTS, "the catalog")


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


Resolver("ProductConnection.totalCount", schema_name=SCHEMA_NAME)(total_count)


@Resolver("Query.productHistory", schema_name=SCHEMA_NAME)
async def product_history(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    return await asyncio.to_thread(
        queries.history, ctx["database"], args["id"], args.get("first"), args.get("after")
    )


@Resolver("Mutation.createProduct", schema_name=SCHEMA_NAME)
async def create_product(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    cid = command_id(data.get("commandId"))
    product_id = new_aggregate_id(uuid_or_none(data.get("id"), "id"), cid, data.get("commandId") is not None)
    description = data.get("description") or ""
    categories = tuple(data.get("categories") or ())
    create = CreateProduct(
        product_id, data["sku"], data["name"], description, money(data["price"]), now(), categories
    )
    return await submit(ctx, args, create, cid)


@Resolver("Mutation.updateProduct", schema_name=SCHEMA_NAME)
async def update_product(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    categories = data.get("categories")
    update = UpdateProduct(
        required_id(data["id"]),
        data.get("name"),
        data.get("description"),
        now(),
        None if categories is None else tuple(categories),
    )
    return await submit(ctx, args, update, command_id(data.get("commandId")))


@Resolver("Mutation.changeProductPrice", schema_name=SCHEMA_NAME)
async def change_product_price(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    change = ChangeProductPrice(required_id(data["id"]), money(data["price"]), now())
    return await submit(ctx, args, change, command_id(data.get("commandId")))


@Resolver("Mutation.deleteProduct", schema_name=SCHEMA_NAME)
async def delete_product(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    delete = DeleteProduct(required_id(data["id"]), now())
    return await submit(ctx, args, delete, command_id(data.get("commandId")))
