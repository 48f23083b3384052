"""Log lines: structlog over the standard library's logging, readable in a terminal and one JSON
object per line in production, each carrying what the context has bound (the correlation id, a
command id, positions). Every process configures it once, at its start.

Tracebacks are plain text: a rich traceback prints every frame's local variables, which may hold
credentials or personal data, and takes seconds to render a deep one (kombu's), in whichever
thread logged it; in the API that is the event loop."""

from __future__ import annotations

import logging
from typing import Any

import structlog

SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(json_lines: bool, level: str = "INFO") -> None:
    """Send every log record (structlog's and the standard library's, Celery's included) through
    one formatter on stderr."""
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json_lines else _keep,
            renderer,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _keep(_logger: Any, _name: str, event: Any) -> Any:
    return event


def get(name: str) -> Any:
    """A structured logger: `log.info("what happened", key=value, ...)`. Until a process calls
    `configure`, its lines go to the standard library's logging as `key=value` text."""
    if not structlog.is_configured():
        structlog.configure(
            processors=[structlog.contextvars.merge_contextvars, structlog.processors.KeyValueRenderer()],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
        )
    return structlog.stdlib.get_logger(name)
