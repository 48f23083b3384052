"""`eventshop`: run the whole system, or one part of it, and manage its database."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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


def main() -> None:
    app()
