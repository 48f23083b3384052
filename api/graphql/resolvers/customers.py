"""The customers' resolvers: a customer (one's own, or any with orders:admin), everything held
about one (its own subject, or customers:admin), and registering, changing and forgetting one."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import Resolver

from api.graphql.resolvers.common import Args, consistent, required_id, submit
from api.graphql.schema_name import SCHEMA_NAME
from api.read import customers
from api.security.auth import CUSTOMERS_ADMIN, order_owner
from api.write.commands import command_id, new_aggregate_id, now, uuid_or_none
from domain.customer import ChangeCustomerAddress, ForgetCustomer, registration


def _owner(ctx: Args) -> str | None:
    return order_owner(ctx["actor"], ctx["auth_required"])


@Resolver("Query.customer", schema_name=SCHEMA_NAME)
async def customer(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    await consistent(args, ctx, customers.CUSTOMERS, "the customers")
    return await asyncio.to_thread(
        customers.customer, ctx["database"], ctx["master_keys"], args["id"], _owner(ctx)
    )


@Resolver("Query.customerData", schema_name=SCHEMA_NAME)
async def customer_data(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    owner = order_owner(ctx["actor"], ctx["auth_required"], admins=(CUSTOMERS_ADMIN,))
    return await asyncio.to_thread(customers.data, ctx["database"], ctx["master_keys"], args["id"], owner)


@Resolver("Mutation.registerCustomer", schema_name=SCHEMA_NAME)
async def register_customer(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    cid = command_id(data.get("commandId"))
    customer_id = new_aggregate_id(uuid_or_none(data.get("id"), "id"), cid, data.get("commandId") is not None)
    register = registration(
        customer_id, data["name"], data["email"], data.get("address"), ctx["actor"].subject, now()
    )
    return await submit(ctx, args, register, cid)


@Resolver("Mutation.changeCustomerAddress", schema_name=SCHEMA_NAME)
async def change_customer_address(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    change = ChangeCustomerAddress(required_id(data["id"]), data["address"].strip(), _owner(ctx), now())
    return await submit(ctx, args, change, command_id(data.get("commandId")))


@Resolver("Mutation.forgetCustomer", schema_name=SCHEMA_NAME)
async def forget_customer(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    data = args["input"]
    forget = ForgetCustomer(required_id(data["id"]), _owner(ctx), now())
    return await submit(ctx, args, forget, command_id(data.get("commandId")))
