"""What every aggregate's resolvers share: their argument type, ids, money, read-your-writes and
submitting a command."""

from __future__ import annotations

import asyncio
from typing import Any

from api.graphql.errors import StaleReadError
from api.read import pages, queries, replicas
from api.write.commands import uuid_or_none
from domain.money import Money

Args = dict[str, Any]


def money(given: Args) -> Money:
    return Money(given["amount"], given["currency"])


def required_id(value: str, field: str = "id") -> str:
    """`value` as a canonical UUID, or a BAD_USER_INPUT error naming `field`."""
    found = uuid_or_none(value, field)
    assert found is not None
    return found


async def consistent(args: Args, ctx: Args, projection: str, what: str) -> None:
    """Wait until `projection` has passed `consistentWith` (when given), or raise STALE_READ."""
    if args.get("consistentWith") is None:
        return
    position = queries.decode_token(args["consistentWith"])
    if not await ctx["watcher"].reached(position, projection, ctx["wait_timeout"]):
        raise StaleReadError(
            f"{what} has not caught up with that token within {ctx['wait_timeout']:g} s; retry later"
        )
    replicas.require(projection, position)  # a replica serves it only once it has passed it too


async def total_count(parent: Args, _args: Args, _ctx: Args, _info: Any) -> Any:
    """A connection's totalCount, counted only when asked for: a count is the one part of a page
    that reads every match."""
    return await asyncio.to_thread(pages.count, *parent["count"])


async def submit(ctx: Args, args: Args, command: Any, cid: str) -> Any:
    """Submit `command` as the request's actor, in its correlation, waiting as `args` asks."""
    return await ctx["commands"].submit(command, cid, args["wait"], ctx["actor"], ctx["correlation_id"])
