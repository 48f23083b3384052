"""The command mailbox's resolver: a command, to follow it until it is handled."""

from __future__ import annotations

import asyncio
from typing import Any

from tartiflette import Resolver

from api.graphql.resolvers.common import Args
from api.graphql.schema_name import SCHEMA_NAME
from api.read import queries


@Resolver("Query.command", schema_name=SCHEMA_NAME)
async def command(_parent: Any, args: Args, ctx: Args, _info: Any) -> Any:
    return await asyncio.to_thread(queries.command, ctx["database"], args["id"])
