"""Submitting commands: refuse bad input, record the command, ring its partition's doorbell."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from api.doorbell import Doorbell
from api.errors import UserInputError
from api.group_commit import GroupRecorder
from store import mailbox, registry
from store.codec import to_json
from store.settings import Settings

# Product ids derived from a client's command id stay the same when the command is resubmitted.
DERIVED_IDS = uuid.UUID("5b1f6c1e-9a57-4c55-9a2e-3c9f3f2a9e10")


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

    def __init__(self, settings: Settings, doorbell: Doorbell) -> None:
        self._partitions = settings.partitions
        self._recorder = GroupRecorder(settings.database_url, doorbell)

    async def submit(self, command: Any, command_id: str) -> dict[str, Any]:
        """Record `command` once under `command_id`; returns the receipt once it is durable."""
        command_type = type(command).__name__
        decider = registry.COMMANDS[command_type][1]
        if problems := decider.problems(command):
            raise UserInputError("; ".join(problems))
        aggregate_id = command.product_id
        receipt = await self._recorder.record(
            mailbox.NewCommand(
                id=command_id,
                type=command_type,
                aggregate_type=decider.stream_type,
                aggregate_id=aggregate_id,
                partition=mailbox.partition_of(aggregate_id, self._partitions),
                payload={key: value for key, value in to_json(command).items() if key != "at"},
                submitted_at=command.at,
            )
        )
        # Every submission of one command id gets the same receipt: the command was accepted.
        return {
            "commandId": receipt.command_id,
            "aggregateId": receipt.aggregate_id,
            "status": mailbox.PENDING,
        }
