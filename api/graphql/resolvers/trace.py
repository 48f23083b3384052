"""The trace's resolver: every command and event of one correlation."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import Resolver

from api.graphql.resolvers.common import Args, consistent
from api.graphql.schema_name import SCHEMA_NAME
from api.live.watch import ALL_PROJECTIONS
from api.read import orders


@Resolver("Query.trace", schema_name=SCHEMA_NAME)
async def trace(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    await consistent(args, ctx, ALL_PROJECTIONS, "the read models")
    return await asyncio.to_thread(orders.trace, ctx["database"], args["correlationId"])
