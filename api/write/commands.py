"""Submitting commands: refuse bad input, record the command, ring its partition's doorbell, and
answer at the stage the client asked to wait for."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from api.graphql.errors import UserInputError
from api.live.watch import ALL_PROJECTIONS, Watcher
from api.security.auth import authorize
from api.write.doorbell import Doorbell
from api.write.group_commit import GroupRecorder
from store import db, logs, mailbox, metrics, personal, registry
from store.actor import Actor
from store.codec import to_json
from store.settings import Settings

log = logs.get(__name__)

# Product ids derived from a client's command id stay the same when the command is resubmitted.
DERIVED_IDS = uuid.UUID("5b1f6c1e-9a57-4c55-9a2e-3c9f3f2a9e10")

ACCEPTED, HANDLED, VISIBLE = "ACCEPTED", "HANDLED", "VISIBLE"


def now() -> datetime:
    return datetime.now(UTC)


def uuid_or_none(value: str | None, field: str) -> str | None:
    """`value` as a canonical UUID string, or a BAD_USER_INPUT error naming `field`."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise UserInputError(f"{field} must be a UUID") from None


def command_id(value: str | None) -> str:
    return uuid_or_none(value, "commandId") or str(uuid.uuid4())


def new_aggregate_id(client_id: str | None, command_id: str, given: bool) -> str:
    """The client's id, or one derived from its command id, or a fresh one."""
    if client_id is not None:
        return client_id
    return str(uuid.uuid5(DERIVED_IDS, command_id) if given else uuid.uuid4())


class Submitter:
    """Checks commands, records them in groups and rings their partitions."""

    def __init__(self, settings: Settings, doorbell: Doorbell, watcher: Watcher) -> None:
        self._partitions = settings.partitions
        self._database_url = settings.database_url
        self.master_keys = personal.master_keys(settings)
        self._doorbell = doorbell
        self._recorder = GroupRecorder(settings.database_url, doorbell)
        self._watcher = watcher
        self._wait_timeout = settings.wait_timeout
        self._auth_required = settings.auth.required

    async def close(self) -> None:
        await self._doorbell.close()

    async def submit(
        self, command: Any, command_id: str, wait: str, actor: Actor, correlation_id: str
    ) -> dict[str, Any]:
        """Record `command` once under `command_id`, submitted by `actor` in the request
        `correlation_id`; returns the receipt once it is durable and, within the wait timeout, at
        the stage `wait` asks for."""
        command_type = type(command).__name__
        decider = registry.COMMANDS[command_type][1]
        if self._auth_required:
            authorize(actor, decider.stream_type)
        if problems := decider.problems(command):
            raise UserInputError("; ".join(problems))
        aggregate_id = decider.id_of(command)
        payload = {key: value for key, value in to_json(command).items() if key != "at"}
        if fields := registry.personal(type(command)):
            payload = await asyncio.to_thread(self._seal, command, aggregate_id, payload, fields)
        recording = time.perf_counter()
        receipt = await self._recorder.record(
            mailbox.NewCommand(
                id=command_id,
                type=command_type,
                aggregate_type=decider.stream_type,
                aggregate_id=aggregate_id,
                partition=mailbox.partition_of(aggregate_id, self._partitions),
                payload=payload,
                submitted_at=command.at,
                actor=actor,
                correlation_id=correlation_id,
            )
        )
        metrics.COMMAND_STAGE.labels("record").observe(time.perf_counter() - recording)
        log.info(
            "command recorded", command_id=receipt.command_id, command_type=command_type,
            aggregate_id=receipt.aggregate_id, new=receipt.new,
        )  # fmt: skip
        answer = {
            "commandId": receipt.command_id,
            "aggregateId": receipt.aggregate_id,
            "status": mailbox.PENDING,
            "stage": ACCEPTED,
            "error": None,
            "token": None,
        }
        if wait != ACCEPTED:
            await self._wait(answer, wait)
            metrics.WAITS.labels(wait, "reached" if answer["stage"] == wait else "timed_out").inc()
        return answer

    def _seal(
        self, command: Any, subject: str, payload: dict[str, Any], fields: tuple[str, ...]
    ) -> dict[str, Any]:
        """The payload with its personal fields sealed with the subject's key, made for a new
        subject; an unknown or forgotten subject is refused, and nothing is recorded."""
        new = getattr(command, "NEW_SUBJECT", False)
        try:
            key = self._key(subject, new, command.at)
        except IntegrityError:  # a concurrent request made the subject's key first
            key = self._key(subject, new, command.at)
        if key is None:
            raise UserInputError("no such customer, or it was forgotten")
        return personal.seal_fields(payload, fields, key, subject)

    def _key(self, subject: str, new: bool, at: datetime) -> bytes | None:
        if not new:
            with db.reading(self._database_url) as connection:
                return personal.data_keys(connection, self.master_keys, [subject])[subject]
        with db.writing(self._database_url) as connection:
            try:
                return personal.key_for_new(connection, self.master_keys, subject, at)
            except personal.ForgottenError:
                raise UserInputError("this customer was forgotten") from None

    async def _wait(self, answer: dict[str, Any], wait: str) -> None:
        """Move `answer` on to the stages reached within the wait timeout."""
        deadline = asyncio.get_running_loop().time() + self._wait_timeout
        handled = await self._watcher.handled(answer["commandId"], self._wait_timeout)
        if handled is None:
            return
        answer.update(status=handled.status, error=handled.error, stage=HANDLED)
        answer["token"] = None if handled.position is None else str(handled.position)
        if wait == VISIBLE:
            left = deadline - asyncio.get_running_loop().time()
            if handled.position is None or await self._watcher.reached(
                handled.position, ALL_PROJECTIONS, left
            ):
                answer["stage"] = VISIBLE
