"""Tartiflette subscriptions: each an async generator over the process's watcher and event feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from tartiflette import Subscription

from api import queries
from api.commands import uuid_or_none
from api.errors import UserInputError
from api.schema_name import SCHEMA_NAME
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


@Subscription("Subscription.productChanged", schema_name=SCHEMA_NAME)
async def product_changed(_parent: Any, args: Args, ctx: Args, _info: Any) -> AsyncIterator[Args]:
    """The product now (null if it does not exist yet or any more), then each time the read model
    shows a new event of it. The feed is joined before the product is read, so no change falls
    between the two."""
    product_id = uuid_or_none(args["id"], "id") or ""
    feed, watcher = ctx["watcher"].feed, ctx["watcher"]
    follower = await feed.join(None, None, product_id, ctx["on_too_slow"])
    assert follower is not None
    try:
        product = await asyncio.to_thread(queries.product, ctx["database"], product_id)
        shown = None if product is None else product["version"]  # the version last shown
        yield {"productChanged": product}
        while True:
            position = (await feed.next(follower)).position
            while not await watcher.reached(position, queries.PRODUCTS, WAIT_STEP):
                pass
            product = await asyncio.to_thread(queries.product, ctx["database"], product_id)
            version = None if product is None else product["version"]
            if version != shown:
                shown = version
                yield {"productChanged": product}
    finally:
        feed.leave(follower)


@Subscription("Subscription.events", schema_name=SCHEMA_NAME)
async def events(_parent: Any, args: Args, ctx: Args, _info: Any) -> AsyncIterator[Args]:
    """Events after the cursor from the store, then live ones from the feed: no gap, no repeat."""
    cursor = queries.decode_token(args["after"], "after") if args.get("after") else 0
    types, stream_id = args.get("types"), args.get("streamId")
    stream_key = None if stream_id is None else (queries.as_uuid(stream_id) or "")
    feed = ctx["watcher"].feed
    while (follower := await feed.join(cursor, types, stream_key, ctx["on_too_slow"])) is None:
        end = await feed.end()
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
