"""Tartiflette subscriptions: each an async generator over the process's watcher and event feed."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from typing import Any

from tartiflette import Subscription

from api.graphql.errors import UserInputError
from api.graphql.schema_name import SCHEMA_NAME
from api.read import orders, queries, replicas
from api.security.auth import order_owner
from api.write.commands import uuid_or_none
from store.mailbox import PENDING

Args = dict[str, Any]

CATCH_UP_PAGE = 500
WAIT_STEP = 60.0  # seconds; a waiting subscription checks again at least this often


@Subscription("Subscription.commandUpdated", schema_name=SCHEMA_NAME)
async def command_updated(_parent: Any, args: Args, ctx: Args, _info: Any) -> AsyncIterator[Args]:
    """The command now, then once more when it is handled."""
    found = await asyncio.to_thread(queries.command, ctx["database"], args["id"])
    if found is None:
        raise UserInputError("there is no command with that id")
    yield {"commandUpdated": found}
    if found["status"] == PENDING:
        while await ctx["watcher"].handled(found["id"], WAIT_STEP) is None:
            pass
        yield {"commandUpdated": await asyncio.to_thread(queries.command, ctx["database"], args["id"])}


async def _changes(ctx: Args, stream_id: str, projection: str, read: Callable[[], Any]) -> AsyncIterator[Any]:
    """What `read` shows now, then again each time `projection` has applied a new event of the
    stream and `read` shows another version. The feed is joined before the first read, so no
    change falls between the two."""
    feed, watcher = ctx["watcher"].feed, ctx["watcher"]
    follower = await feed.join(None, None, stream_id, ctx["on_too_slow"])
    assert follower is not None
    try:
        replicas.require(projection, await feed.end())  # a replica only once it shows as much
        found = await asyncio.to_thread(read)
        shown = None if found is None else found["version"]  # the version last shown
        yield found
        while True:
            position = (await feed.next(follower)).position
            while not await watcher.reached(position, projection, WAIT_STEP):
                pass
            replicas.require(projection, position)
            found = await asyncio.to_thread(read)
            version = None if found is None else found["version"]
            if version != shown:
                shown = version
                yield found
    finally:
        feed.leave(follower)


@Subscription("Subscription.productChanged", schema_name=SCHEMA_NAME)
async def product_changed(_parent: Any, args: Args, ctx: Args, _info: Any) -> AsyncIterator[Args]:
    """The product now (null if it does not exist yet or any more), then each time the read model
    shows a new event of it."""
    product_id = uuid_or_none(args["id"], "id") or ""
    read = functools.partial(queries.product, ctx["database"], product_id)
    async for product in _changes(ctx, product_id, queries.PRODUCTS, read):
        yield {"productChanged": product}


@Subscription("Subscription.orderChanged", schema_name=SCHEMA_NAME)
async def order_changed(_parent: Any, args: Args, ctx: Args, _info: Any) -> AsyncIterator[Args]:
    """The order now (null if unknown or not the caller's own), then each time the read model
    shows a new event of it."""
    order_id = uuid_or_none(args["id"], "id") or ""
    owner = order_owner(ctx["actor"], ctx["auth_required"])
    read = functools.partial(orders.order, ctx["database"], order_id, owner)
    async for found in _changes(ctx, order_id, orders.ORDERS_PROJECTION, read):
        yield {"orderChanged": found}


@Subscription("Subscription.events", schema_name=SCHEMA_NAME)
async def events(_parent: Any, args: Args, ctx: Args, _info: Any) -> AsyncIterator[Args]:
    """Events after the cursor from the store, then live ones from the feed: no gap, no repeat."""
    cursor = queries.decode_token(args["after"], "after") if args.get("after") else 0
    types, stream_id = args.get("types"), args.get("streamId")
    stream_key = None if stream_id is None else (queries.as_uuid(stream_id) or "")
    feed = ctx["watcher"].feed
    while (follower := await feed.join(cursor, types, stream_key, ctx["on_too_slow"])) is None:
        end = await feed.end()
        replicas.require(replicas.HEAD, end)  # a replica behind the feed would leave a gap
        rows = await asyncio.to_thread(
            queries.event_rows, ctx["database"], cursor, end, types, stream_id, CATCH_UP_PAGE
        )
        for row in rows:
            yield {"events": queries.event(row)}
        cursor = rows[-1].position if len(rows) == CATCH_UP_PAGE else end
    try:
        while True:
            yield {"events": queries.event(await feed.next(follower))}
    finally:
        feed.leave(follower)
