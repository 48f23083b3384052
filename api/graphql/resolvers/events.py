"""The event store's resolver: the global event feed, a page at a time."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import Resolver

from api.graphql.resolvers.common import Args
from api.graphql.schema_name import SCHEMA_NAME
from api.read import queries


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
