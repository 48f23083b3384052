"""Finding lost doorbells: mailboxes and projections left waiting with no task on its way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import db, mailbox
from store.settings import Settings
from workers import projector


def stale_partitions(config: Settings) -> list[int]:
    """Partitions with a pending command that has waited longer than the redelivery delay."""
    cutoff = datetime.now(UTC) - timedelta(seconds=config.redeliver_after)
    with db.reading(config.database_url) as connection:
        return mailbox.stale_partitions(connection, cutoff)


def lagging_projections(config: Settings) -> list[str]:
    return projector.behind(config.database_url)
