"""Group commit: concurrent mutations are recorded with one insert and one commit.

One writer per API process takes whatever has queued while it was busy (at most `MAX_GROUP`
commands), records it in one transaction, and goes on with the next group at once. Idle, a
command is written as soon as it arrives; under load, groups grow by themselves. After each
commit, every partition with a pending command in the group gets one doorbell; the commands of a
partition whose doorbell could not be rung are withdrawn, and their mutations say so. A command
the database refuses fails alone: the group is then recorded one command at a time.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import OperationalError

from api.graphql.errors import ConflictError, UnavailableError
from api.write.doorbell import Doorbell
from store import db, mailbox

log = logging.getLogger(__name__)

MAX_GROUP = 500

Waiting = tuple[mailbox.NewCommand, asyncio.Future[mailbox.Receipt]]
Recorded = mailbox.Receipt | mailbox.CommandIdConflict | Exception


class GroupRecorder:
    def __init__(self, database_url: str, doorbell: Doorbell) -> None:
        self._database_url = database_url
        self._doorbell = doorbell
        self._queue: list[Waiting] = []
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._ringers: set[asyncio.Task[None]] = set()

    async def record(self, command: mailbox.NewCommand) -> mailbox.Receipt:
        """The command's receipt once it is durable and its partition has been rung."""
        future: asyncio.Future[mailbox.Receipt] = asyncio.get_running_loop().create_future()
        self._queue.append((command, future))
        self._wakeup.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups())
        return await future

    async def _write_groups(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                results = await asyncio.to_thread(self._record_group, [command for command, _ in group])
                ringer = asyncio.create_task(self._ring_and_answer(group, results))
                self._ringers.add(ringer)
                ringer.add_done_callback(self._ringers.discard)

    def _record_group(self, commands: list[mailbox.NewCommand]) -> list[Recorded]:
        """Record the group in one transaction. If the database refuses it for what one command
        holds (not for being unreachable), record each on its own, so only that one fails."""
        try:
            with db.writing(self._database_url) as connection:
                return list(mailbox.record_many(connection, commands))
        except OperationalError as error:
            return [error] * len(commands)
        except Exception as error:
            if len(commands) == 1:
                return [error]
            return [self._record_group([command])[0] for command in commands]

    def _withdraw(self, command_ids: list[str]) -> set[str]:
        with db.writing(self._database_url) as connection:
            return mailbox.withdraw(connection, command_ids)

    async def _ring_and_answer(self, group: list[Waiting], results: list[Recorded]) -> None:
        receipts = [r for r in results if isinstance(r, mailbox.Receipt)]
        partitions = sorted({r.partition for r in receipts if r.status == mailbox.PENDING})
        rung = dict(zip(partitions, await asyncio.gather(*map(self._doorbell.ring, partitions)), strict=True))
        unrung = [r.command_id for r in receipts if r.new and not rung.get(r.partition, True)]
        withdrawn: set[str] = set()
        if unrung:
            try:
                withdrawn = await asyncio.to_thread(self._withdraw, unrung)
            except Exception:
                log.warning("could not withdraw %d unrung commands; beat will ring for them", len(unrung))
        for (_, future), result in zip(group, results, strict=True):
            if future.done():
                continue
            if isinstance(result, mailbox.CommandIdConflict):
                future.set_exception(ConflictError(str(result)))
            elif isinstance(result, Exception):
                future.set_exception(result)
            elif result.command_id in withdrawn:
                future.set_exception(
                    UnavailableError(
                        "commands cannot be queued right now; nothing was recorded, please retry"
                    )
                )
            else:
                future.set_result(result)
