"""`eventshop commands list|show|retry` and `eventshop status`: operating a running system
(`eventshop.cli` registers them)."""

from __future__ import annotations

import getpass
import json
import time
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from eventshop.options import DataDir, console, existing
from store import settings

if TYPE_CHECKING:
    from workers.monitor import Snapshot

commands_app = typer.Typer(
    help="Inspect commands, and hand a FAILED one to a worker again.", no_args_is_help=True
)
ERROR_WIDTH = 60


class CommandStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


CommandId = Annotated[str, typer.Argument(help="The command's id (its commandId).")]


@commands_app.command("list")
def list_commands(
    status: Annotated[
        CommandStatus | None, typer.Option(case_sensitive=False, help="Only commands with this status.")
    ] = None,
    aggregate: Annotated[str | None, typer.Option(help="Only this aggregate's commands.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per command.")] = False,
    data_dir: DataDir = None,
) -> None:
    """The newest commands first: id, type, aggregate, status, attempts, times and error."""
    from store import db, mailbox

    with db.reading(existing(data_dir).database_url) as connection:
        rows = mailbox.listed(connection, status.value if status else None, aggregate, limit)
    if as_json:
        for row in rows:
            print(json.dumps(_document(row)))
        return
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("id", "type", "aggregate", "status", "attempts", "submitted", "completed", "error"):
        table.add_column(header, overflow="fold")  # whole ids, folded on a narrow terminal
    for row in rows:
        error = row.error or ""
        table.add_row(
            Text(row.id),
            Text(row.type),
            Text(row.aggregate_id),
            _status(row.status),
            str(row.attempts),
            _time(row.submitted_at),
            _time(row.completed_at),
            Text(error if len(error) <= ERROR_WIDTH else error[: ERROR_WIDTH - 1] + "…"),
        )
    console.print(table)


@commands_app.command("show")
def show(command_id: CommandId, data_dir: DataDir = None) -> None:
    """Every column of one command, the events it appended and each time it was retried."""
    from store import db, eventstore, mailbox

    key = _canonical(command_id)
    with db.reading(existing(data_dir).database_url) as connection:
        row = mailbox.get(connection, key)
        appended = eventstore.of_command(connection, key)
        retries = mailbox.retries(connection, key)
    if row is None:
        typer.echo(f"eventshop commands: no command {command_id}", err=True)
        raise typer.Exit(2)
    fields = Table("field", "value", title=f"command {row.id}", show_header=False)
    for name, value in _document(row).items():
        fields.add_row(name, _status(value) if name == "status" else _text(value))
    console.print(fields)
    found = Table("position", "version", "type", "stream", "recorded", title="events")
    for event in appended:
        found.add_row(
            str(event.position),
            str(event.version),
            Text(event.type),
            Text(event.stream_id),
            _time(event.recorded_at),
        )
    console.print(found if appended else "no events")
    if retries:
        done = Table("retried", "by", "previous error", "previous attempts", title="retries")
        for retry in retries:
            done.add_row(
                _time(retry.retried_at),
                Text(retry.retried_by),
                Text(retry.previous_error or ""),
                str(retry.previous_attempts),
            )
        console.print(done)


@commands_app.command("retry")
def retry(
    command_id: CommandId,
    by: Annotated[str, typer.Option(help="Who retries it (recorded).")] = getpass.getuser(),
    data_dir: DataDir = None,
) -> None:
    """Hand a FAILED command to a worker again; who, when and its error are recorded.

    It goes back to PENDING with no attempts, ahead of the aggregate's commands still pending
    that were recorded after it. It is a new attempt: it is decided against the aggregate as it
    is now, so it comes after the aggregate's commands handled since it failed. Only a FAILED
    command is retried: REJECTED (a domain decision), SUCCEEDED and PENDING exit with status 1.
    """
    from store import db, mailbox

    config = existing(data_dir)
    key = _canonical(command_id)
    try:
        with db.writing(config.database_url) as connection:
            before = mailbox.retry(connection, key, by, datetime.now(UTC))
    except mailbox.UnknownCommand as error:
        typer.echo(f"eventshop commands: {error}", err=True)
        raise typer.Exit(2) from None
    except mailbox.NotRetryable as error:
        typer.echo(f"eventshop commands: {error}", err=True)
        raise typer.Exit(1) from None
    had = escape(before.error or "")
    console.print(f"command {key} is PENDING again (retried by {escape(by)}); it had failed: {had}")
    if not ring(config, before.partition):
        console.print("[yellow]could not reach the broker; beat will ring for it within seconds[/yellow]")


def ring(config: settings.Settings, partition: int) -> bool:
    """Ask a worker to drain the partition's mailbox, as the API does; False if the broker is down."""
    from store import coalesce
    from store.celery_config import HANDLE_COMMANDS, celery_app

    name = coalesce.partition(partition)
    if not coalesce.should_ring(config.broker_url, name):
        return True
    try:
        celery_app("eventshop-cli", config).send_task(
            HANDLE_COMMANDS, args=[partition], retry_policy={"max_retries": 1}
        )
    except Exception:
        coalesce.answered(config.broker_url, name)
        return False
    return True


def status(
    once: Annotated[bool, typer.Option("--once", help="Print one view and exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between refreshes, over which throughput is measured.")
    ] = 1.0,
    data_dir: DataDir = None,
) -> None:
    """A live view of projections, mailbox depth and throughput; --once prints it once.

    Projections: position, head, lag and state. Mailbox: pending commands per partition and in
    all. Throughput: commands handled and events appended per second over the last interval.
    Ctrl-C leaves the live view.
    """
    from sqlalchemy.exc import DBAPIError

    from workers import monitor

    url = existing(data_dir).database_url
    previous = monitor.sample(url)
    time.sleep(interval)
    found, previous = monitor.snapshot(url, previous)
    if once:
        console.print(_view(found))
        return
    try:
        with Live(_view(found), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                try:
                    found, previous = monitor.snapshot(url, previous)
                    live.update(_view(found), refresh=True)
                except DBAPIError as error:
                    reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
                    warning = Text(f"cannot read the database: {reason}", style="red")
                    live.update(Group(_view(found), warning), refresh=True)
    except KeyboardInterrupt:
        pass


def _view(found: Snapshot) -> RenderableType:
    projections = Table("projection", "position", "head", "lag", "state", title="projections")
    for s in found.projections:
        state = Text(f"{s.status} at {s.error_position}: {s.error}" if s.error else s.status)
        if s.status == "HALTED":
            state.stylize("red")
        projections.add_row(s.name, str(s.position), str(s.head), str(s.lag), state)
    mailbox = Table("partition", "pending", title="mailbox", show_footer=True)
    mailbox.columns[0].footer, mailbox.columns[1].footer = "total", str(found.pending)
    for partition, depth in found.depths.items():
        mailbox.add_row(str(partition), str(depth))
    throughput = (
        f"throughput over the last {found.interval:.1f} s: {found.commands_per_second:.1f} commands "
        f"handled/s, {found.events_per_second:.1f} events appended/s"
    )
    if not found.relays:
        return Group(projections, mailbox, throughput)
    relays = Table("sink", "position", "lag", "published", "state", title="relay")
    head = max((s.head for s in found.projections), default=0)
    for r in found.relays:
        state = Text(f"failing: {r['error']}", style="red") if r["error"] else Text("publishing")
        relays.add_row(r["sink"], str(r["position"]), str(head - r["position"]), str(r["published"]), state)
    return Group(projections, relays, mailbox, throughput)


def _document(row: Any) -> dict[str, Any]:
    """A command's columns as JSON values, its actor as one object."""
    found = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row._mapping.items()
    }
    found["actor"] = {
        "subject": found.pop("actor"),
        "credential": found.pop("actor_credential"),
        "roles": found.pop("actor_roles"),
    }
    return found


def _canonical(command_id: str) -> str:
    """Command ids are canonical UUIDs (lower case); anything else is looked up as given."""
    try:
        return str(uuid.UUID(command_id))
    except ValueError:
        return command_id


def _status(value: str) -> Text:
    return Text(value, style={"SUCCEEDED": "green", "REJECTED": "yellow", "FAILED": "red"}.get(value, ""))


def _text(value: Any) -> Text:
    return Text("" if value is None else value if isinstance(value, str) else json.dumps(value))


def _time(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else ""
