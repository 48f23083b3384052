"""Finding lost doorbells: mailboxes and projections left waiting with no task on its way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import db, mailbox, settings
from workers import projector


def stale_partitions() -> list[int]:
    """Partitions with a pending command that has waited longer than the redelivery delay."""
    cutoff = datetime.now(UTC) - timedelta(seconds=settings.load().redeliver_after)
    with db.reading() as connection:
        return mailbox.stale_partitions(connection, cutoff)


def lagging_projections() -> list[str]:
    return projector.behind()
