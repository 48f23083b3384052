"""`eventshop`: run the whole system, or one part of it, and manage its database."""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from workers import settings

app = typer.Typer(
    help="eventshop: an event-sourced commerce backend with a GraphQL API.", no_args_is_help=True
)
console = Console()

Host = Annotated[str, typer.Option(help="Address the API listens on.")]
Port = Annotated[int, typer.Option(help="Port the API listens on.")]


@app.command()
def migrate() -> None:
    """Create or upgrade every table (Alembic migrations) in DATABASE_URL."""
    from workers import migrate as migrations

    migrations.upgrade()
    console.print("[green]database is at the newest schema[/green]")


@app.command()
def web(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the GraphQL API only."""
    from api.app import run

    console.print(f"eventshop API on http://{host}:{port}/graphql")
    run(host, port)


def processes(host: str, port: int, data_dir: Path, pool: str) -> dict[str, list[str]]:
    """The real processes that make up a running system: API, command worker, projector, beat."""
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "workers"]
    worker = [*celery, "worker", "-P", pool, "-l", "INFO"]
    return {
        "web": [python, "-m", "eventshop", "web", "--host", host, "--port", str(port)],
        "worker": [*worker, "-Q", "commands", "-n", "worker@%h", "-c", "2"],
        "projector": [*worker, "-Q", "projections", "-n", "projector@%h", "-c", "1"],
        "beat": [*celery, "beat", "-s", str(data_dir / "celerybeat-schedule"), "-l", "INFO"],
    }


@app.command()
def up(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    data_dir: Annotated[
        Path, typer.Option(help="Folder for the SQLite file and the broker (embedded default).")
    ] = Path("eventshop-data"),
) -> None:
    """Run the whole system: API, command worker, projector and beat, until Ctrl-C.

    Without DATABASE_URL and BROKER_URL it needs no servers: SQLite and a folder broker under
    --data-dir. With them set it runs on PostgreSQL and Redis.
    """
    from honcho import manager as honcho
    from honcho.printer import Printer

    from workers import migrate as migrations

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["EVENTSHOP_DATA_DIR"] = str(data_dir)
    config = settings.load()
    migrations.upgrade()
    env = {**os.environ, "DATABASE_URL": config.database_url, "BROKER_URL": config.broker_url}
    # Celery on the folder broker polls in 2 s cycles; give a warm shutdown time before SIGKILL.
    honcho.KILL_WAIT = 10
    manager = honcho.Manager(Printer(sys.stdout))
    # Prefork children die with their process group when stopped, which wedges a worker on the
    # folder broker; a thread pool stops cleanly there. Redis gets the prefork pool.
    pool = "threads" if config.broker_url.startswith("filesystem") else "prefork"
    for name, command in processes(host, port, data_dir, pool).items():
        manager.add_process(name, shlex.join(command), env=env)
    console.print(f"[bold green]eventshop is starting:[/bold green] http://{host}:{port}/graphql")
    console.print(f"database {config.database_url}, broker {config.broker_url}; Ctrl-C stops everything")
    manager.loop()
    sys.exit(manager.returncode)


@app.command()
def verify() -> None:
    """Check DATABASE_URL against the invariants I1-I5 and I7; exit status 1 on any violation."""
    from workers.verify import verify as check

    report = check()
    table = Table("what", "count", title="eventshop verify")
    for what, count in report.counts.items():
        table.add_row(what, str(count))
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note[/yellow] {note}")
    for violation in report.violations:
        console.print(f"[red]violation[/red] {violation}")
    if not report.ok:
        console.print(f"[bold red]{len(report.violations)} violation(s)[/bold red]")
        raise typer.Exit(1)
    console.print("[bold green]all invariants hold[/bold green]")


projections_app = typer.Typer(help="Inspect and steer projections.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")


@projections_app.command("status")
def projections_status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per projection.")] = False,
) -> None:
    """Every projection: position, head, lag, state and error."""
    from workers import projector

    if as_json:
        for s in projector.statuses():
            print(json.dumps({**dataclasses.asdict(s), "lag": s.lag}))
        return
    table = Table("projection", "position", "head", "lag", "state", "attempts", "error", title="projections")
    for s in projector.statuses():
        error = f"at {s.error_position}: {s.error}" if s.error else ""
        state = f"[red]{s.status}[/red]" if s.status == projector.HALTED else s.status
        table.add_row(s.name, str(s.position), str(s.head), str(s.lag), state, str(s.attempts), error)
    console.print(table)


@projections_app.command("resume")
def projections_resume(name: str) -> None:
    """Let a halted projection retry the event it halted at (after the fix is deployed)."""
    from workers import projector

    _known_projection(name)
    projector.resume(name)
    _ring_projector(name)
    console.print(f"projection {name} resumed")


@projections_app.command("rebuild")
def projections_rebuild(name: str) -> None:
    """Empty a projection's tables and replay every event into them."""
    from workers import projector

    _known_projection(name)
    projector.reset(name)
    _ring_projector(name)
    console.print(f"projection {name} is rebuilding from the first event")


@projections_app.command("skip")
def projections_skip(
    name: str,
    position: Annotated[int, typer.Option(help="The event the projection is halted at.")],
    by: Annotated[str, typer.Option(help="Who skips it (recorded).")] = getpass.getuser(),
) -> None:
    """Step a halted projection over one event; who, what and when are recorded."""
    from workers import projector

    _known_projection(name)
    try:
        projector.skip(name, position, by)
    except projector.NotHalted as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    _ring_projector(name)
    console.print(f"projection {name} skipped event {position}; recorded as done by {by}")


def _known_projection(name: str) -> None:
    from workers import registry

    if name not in registry.PROJECTIONS:
        console.print(f"[red]no projection {name}; known: {', '.join(registry.PROJECTIONS)}[/red]")
        raise typer.Exit(2)


def _ring_projector(name: str) -> None:
    """Ask a projector to catch up now; if the broker is down, beat will ring within seconds."""
    from celery import Celery

    from workers.celery_config import PROJECT, celery_config

    client = Celery("eventshop-cli")
    client.config_from_object(celery_config(settings.load()))
    try:
        client.send_task(PROJECT, args=[name], retry_policy={"max_retries": 1})
    except Exception:
        console.print("[yellow]could not reach the broker; beat will ring the projector[/yellow]")


def main() -> None:
    app()
