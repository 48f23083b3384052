"""Group commit: concurrent mutations are recorded with one insert and one commit.

One writer per API process takes whatever has queued while it was busy (at most `MAX_GROUP`
commands), records it in one transaction, and goes on with the next group at once. Idle, a
command is written as soon as it arrives; under load, groups grow by themselves. After each
commit, every partition with a pending command in the group gets one doorbell; the commands of a
partition whose doorbell could not be rung are withdrawn, and their mutations say so.
"""

from __future__ import annotations

import asyncio
import logging

from api.doorbell import Doorbell
from api.errors import ConflictError, UnavailableError
from store import db, mailbox

log = logging.getLogger(__name__)

MAX_GROUP = 500

Waiting = tuple[mailbox.NewCommand, asyncio.Future[mailbox.Receipt]]


class GroupRecorder:
    def __init__(self, doorbell: Doorbell) -> None:
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
                try:
                    results = await asyncio.to_thread(self._record, [command for command, _ in group])
                except Exception as error:
                    for _, future in group:
                        if not future.done():
                            future.set_exception(error)
                    continue
                ringer = asyncio.create_task(self._ring_and_answer(group, results))
                self._ringers.add(ringer)
                ringer.add_done_callback(self._ringers.discard)

    def _record(
        self, commands: list[mailbox.NewCommand]
    ) -> list[mailbox.Receipt | mailbox.CommandIdConflict]:
        with db.writing() as connection:
            return mailbox.record_many(connection, commands)

    def _withdraw(self, command_ids: list[str]) -> set[str]:
        with db.writing() as connection:
            return mailbox.withdraw(connection, command_ids)

    async def _ring_and_answer(
        self, group: list[Waiting], results: list[mailbox.Receipt | mailbox.CommandIdConflict]
    ) -> None:
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
            elif result.command_id in withdrawn:
                future.set_exception(
                    UnavailableError(
                        "commands cannot be queued right now; nothing was recorded, please retry"
                    )
                )
            else:
                future.set_result(result)
