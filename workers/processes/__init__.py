"""The one place that registers every process manager: each reacts to events by issuing commands,
run by the projector with a checkpoint of its own. Built from the settings it needs."""

from __future__ import annotations

from collections.abc import Callable

from store.settings import Settings
from workers.processes import order_process
from workers.projections.base import Projection

PROCESS_MANAGERS: dict[str, Callable[[Settings], Projection]] = {order_process.NAME: order_process.projection}
