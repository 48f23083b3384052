"""`eventshop`: run the whole system, or one part of it, and manage its database."""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import sys
import time
from typing import Annotated

import typer
from rich.table import Table

from eventshop.operator_cli import commands_app, status
from eventshop.options import DEFAULT_DATA_DIR, DataDir, console, existing, metrics_directory, use
from eventshop.personal_cli import customers_app, keys_app
from eventshop.relay_cli import relay_app
from eventshop.trace_cli import trace
from store import settings

app = typer.Typer(
    help="eventshop: an event-sourced commerce backend with a GraphQL API.", no_args_is_help=True
)
Host = Annotated[str, typer.Option(help="Address the API listens on.")]
Port = Annotated[int, typer.Option(help="Port the API listens on.")]


@app.command()
def migrate(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Create or upgrade every table (Alembic migrations) in DATABASE_URL or the data folder."""
    from store import migrate as migrations
    from workers import projector

    url = use(data_dir).database_url
    migrations.upgrade(url)
    projector.create_checkpoints(url)
    console.print("[green]database is at the newest schema[/green]")


@app.command()
def web(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes sharing the port.")] = 1,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Serve the GraphQL API only."""
    from api.app import run

    config = existing(data_dir)
    _usable(config)
    metrics_directory(config, empty=False)
    console.print(f"eventshop API on http://{host}:{port}/graphql ({workers} process(es))")
    run(config, host, port, workers)


@app.command()
def up(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Run the whole system: API, command worker, projector and beat, until Ctrl-C.

    Without DATABASE_URL and BROKER_URL it needs no servers: SQLite and an embedded Redis broker
    under --data-dir. With them set it runs on PostgreSQL and Redis. A process that dies is
    started again; one that dies 5 times within a minute stops everything.
    """
    from eventshop import topology
    from eventshop.supervisor import Supervisor
    from store import broker
    from store import migrate as migrations
    from workers import projector

    config = use(data_dir)
    _usable(config)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    metrics_directory(config, empty=True)
    migrations.upgrade(config.database_url)
    projector.create_checkpoints(config.database_url)
    try:
        programs = topology.programs(config, host, port)
    except broker.BrokerUnavailable as error:
        typer.echo(f"eventshop up: {error}", err=True)
        raise typer.Exit(2) from None
    env = {**os.environ, "DATABASE_URL": config.database_url, "BROKER_URL": config.broker_url}
    ready = {"broker": lambda: _broker_answers(config.broker_url)}
    console.print(f"[bold green]eventshop is starting:[/bold green] http://{host}:{port}/graphql")
    _print_access(config)
    console.print(f"data folder {config.data_dir}", soft_wrap=True)
    console.print(f"database {config.database_url}", soft_wrap=True)
    console.print(f"broker {config.broker_url}", soft_wrap=True)
    console.print("Ctrl-C stops everything")
    sys.exit(Supervisor(programs, env, ready).run())


def _usable(config: settings.Settings) -> None:
    """Exit 2 with one line when a key file or a trusted-documents manifest cannot be used."""
    from api.app import check

    try:
        check(config)
    except settings.SettingsError as error:
        typer.echo(f"eventshop: {error}", err=True)
        raise typer.Exit(2) from None


def _print_access(config: settings.Settings) -> None:
    """How to get in: a ready admin token when eventshop can sign one, or why not."""
    from api.security import auth, tokens

    if not config.auth.required:
        console.print(f"[bold yellow]warning:[/bold yellow] {auth.describe(config)}")
        return
    secret = tokens.signing_secret(config, create=True)
    if secret is None:
        console.print(
            "tokens: signed by your identity provider (EVENTSHOP_JWT_PUBLIC_KEY / EVENTSHOP_JWKS_FILE)"
        )
        return
    token = tokens.mint(config, secret, "developer", (auth.ADMIN,))
    console.print("admin token (12 h), to send as Authorization: Bearer <token>:", soft_wrap=True)
    console.print(token, soft_wrap=True, highlight=False)


Roles = Annotated[list[str], typer.Option("--role", help="A role: admin or catalog:write (repeatable).")]


def _known_roles(roles: list[str]) -> tuple[str, ...]:
    from api.security.auth import ROLES

    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        typer.echo(
            f"eventshop: roles must be among {', '.join(ROLES)} (got {', '.join(unknown) or 'none'})",
            err=True,
        )
        raise typer.Exit(2)
    return tuple(dict.fromkeys(roles))


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="Who the token is for (its subject).")],
    role: Roles,
    ttl: Annotated[int, typer.Option(min=1, help="Seconds the token is valid.")] = 12 * 3600,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Mint a JWT signed with EVENTSHOP_JWT_SECRET or the data folder's development secret; it is
    printed alone, for `TOKEN=$(eventshop token --sub me --role admin)`."""
    from datetime import timedelta

    from api.security import tokens

    config = use(data_dir)
    roles = _known_roles(role)
    secret = tokens.signing_secret(config, create=True)
    if secret is None:
        typer.echo(
            "eventshop token: tokens are signed by your identity provider (public keys configured)", err=True
        )
        raise typer.Exit(2)
    print(tokens.mint(config, secret, sub, roles, timedelta(seconds=ttl)))


apikey_app = typer.Typer(help="API keys for services: create, list, revoke.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="The key's name: who uses it (shown as the actor).")],
    role: Roles,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Create an API key; it is printed once, alone on the last line, and only its hash is kept."""
    import re
    from datetime import UTC, datetime

    from store import api_keys, db

    config = existing(data_dir)
    roles = _known_roles(role)
    if not re.fullmatch(api_keys.NAME_PATTERN, name):
        typer.echo("eventshop apikey: a name is 1-64 letters, digits and _ . : @ -", err=True)
        raise typer.Exit(2)
    try:
        with db.writing(config.database_url) as connection:
            key = api_keys.create(connection, name, roles, datetime.now(UTC))
    except api_keys.ApiKeyError as error:
        typer.echo(f"eventshop apikey: {error}", err=True)
        raise typer.Exit(1) from None
    console.print(f"API key {name} ({', '.join(roles)}); keep it now, it is not shown again:")
    print(key)


@apikey_app.command("list")
def apikey_list(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Every API key: name, roles, when created and revoked (never the key)."""
    from store import api_keys, db

    with db.reading(existing(data_dir).database_url) as connection:
        keys = api_keys.listed(connection)
    table = Table("name", "roles", "created", "revoked", title="API keys")
    for key in keys:
        revoked = f"[red]{key.revoked_at:%Y-%m-%d %H:%M:%S}[/red]" if key.revoked_at else ""
        table.add_row(key.name, ", ".join(key.roles), f"{key.created_at:%Y-%m-%d %H:%M:%S}", revoked)
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(name: str, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Revoke an API key: every API process refuses it within a second."""
    from datetime import UTC, datetime

    from store import api_keys, db

    try:
        with db.writing(existing(data_dir).database_url) as connection:
            api_keys.revoke(connection, name, datetime.now(UTC))
    except api_keys.ApiKeyError as error:
        typer.echo(f"eventshop apikey: {error}", err=True)
        raise typer.Exit(1) from None
    console.print(f"API key {name} revoked")


@app.command()
def run(
    role: Annotated[str, typer.Argument(help="broker, web, worker, projector, beat or relay.")],
    host: Host = "127.0.0.1",
    port: Port = 8000,
    web_workers: Annotated[int | None, typer.Option(min=1, help="API processes (web).")] = None,
    node: Annotated[str | None, typer.Option(help="Celery node name (worker, projector).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Worker processes (worker).")] = 2,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Run one process of the system, as `eventshop up` runs it (the Procfile's entries)."""
    from eventshop import topology

    config = use(data_dir)
    commands = {
        "web": lambda: topology.web(host, port, web_workers),
        "worker": lambda: topology.worker(node or "worker", concurrency),
        "projector": lambda: topology.projector(node or "projector"),
        "beat": lambda: topology.beat(config.data_dir),
        "relay": lambda: topology.relay(),
        "broker": lambda: topology.programs(config, host, port)["broker"],
    }
    if role not in commands or (role == "broker" and not config.embedded_broker):
        typer.echo(f"eventshop run: no role {role!r} here; roles: {', '.join(sorted(commands))}", err=True)
        raise typer.Exit(2)
    metrics_directory(config, empty=False)
    argv = commands[role]()
    os.execvp(argv[0], argv)


def _broker_answers(broker_url: str) -> bool:
    import redis

    from store import broker

    url = broker.client_url(broker_url)
    if url is None:
        return True
    with redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5) as client:
        return bool(client.ping())


@app.command()
def verify(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Check the database against the invariants I1-I5 and I7; exit status 1 on any violation.

    Exit status 2 when there is no eventshop database to check.
    """
    from workers.verify import verify as check

    report = check(existing(data_dir).database_url)
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
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Every projection: position, head, lag, state and error (and a new version being rebuilt)."""
    from workers import projector, rebuild

    url = existing(data_dir).database_url
    rebuilding = rebuild.rebuilds(url)
    if as_json:
        for s in projector.statuses(url):
            new = rebuilding.get(s.name)
            found = {**dataclasses.asdict(s), "lag": s.lag}
            found["rebuild"] = {"position": new.position, "target": new.target} if new else None
            print(json.dumps(found))
        return
    table = Table("projection", "position", "head", "lag", "state", "attempts", "error", title="projections")
    for s in projector.statuses(url):
        error = f"at {s.error_position}: {s.error}" if s.error else ""
        state = f"[red]{s.status}[/red]" if s.status == projector.HALTED else s.status
        table.add_row(s.name, str(s.position), str(s.head), str(s.lag), state, str(s.attempts), error)
        if new := rebuilding.get(s.name):
            done = f"rebuilding since {new.started_at:%H:%M:%S}: {new.position} of {new.target}"
            table.add_row(
                f"{s.name} (new version)",
                str(new.position),
                str(s.head),
                str(s.head - new.position),
                done,
                "",
                "",
            )
    console.print(table)


@projections_app.command("resume")
def projections_resume(name: str, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Let a halted projection retry the event it halted at (after the fix is deployed)."""
    from workers import projector

    config = existing(data_dir)
    _known_projection(name)
    projector.resume(config.database_url, name)
    _ring_projector(config, name)
    console.print(f"projection {name} resumed")


@projections_app.command("rebuild")
def projections_rebuild(
    name: str,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compare a fresh replay with the live tables; change nothing.")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Build a new version of a projection from every event into shadow tables while the live one
    keeps serving, then switch to it in one transaction; returns once the old one is gone.

    With --dry-run: print `no differences` and exit 0 when a fresh replay equals the live tables,
    else list the differences and exit 1.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from workers import rebuild

    config = existing(data_dir)
    _known_projection(name, rebuilt=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:,.0f} events/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"replaying {name}", total=None, rate=0.0)
        started = time.monotonic()

        def shown(position: int, target: int) -> None:
            """The bar at `position` of `target`, with the events replayed per second so far."""
            elapsed = time.monotonic() - started
            progress.update(
                task, completed=position, total=target, rate=position / elapsed if elapsed else 0.0
            )

        try:
            if dry_run:
                found = rebuild.differences(config, name, shown)
            else:
                position = rebuild.rebuild(config, name, shown)
        except rebuild.RebuildFailed as error:
            console.print(f"[red]rebuild of {name} stopped: {error}[/red]")
            raise typer.Exit(1) from None
    if not dry_run:
        console.print(f"projection {name} rebuilt and switched to the new version (at position {position})")
        return
    for line in found:
        console.print(line, highlight=False, soft_wrap=True)
    console.print("[red]differences found[/red]" if found else "[green]no differences[/green]")
    if found:
        raise typer.Exit(1)


@projections_app.command("skip")
def projections_skip(
    name: str,
    position: Annotated[int, typer.Option(help="The event the projection is halted at.")],
    by: Annotated[str, typer.Option(help="Who skips it (recorded).")] = getpass.getuser(),
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Step a halted projection over one event; who, what and when are recorded."""
    from workers import projector

    config = existing(data_dir)
    _known_projection(name)
    try:
        projector.skip(config.database_url, name, position, by)
    except projector.NotHalted as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    _ring_projector(config, name)
    console.print(f"projection {name} skipped event {position}; recorded as done by {by}")


def _known_projection(name: str, rebuilt: bool = False) -> None:
    """Stop (exit 2) unless `name` is a projection, or, for what is not a rebuild, a process
    manager (it halts and resumes like one, but replaying it would issue its commands again)."""
    from workers import projector
    from workers.projections import PROJECTIONS

    known = list(PROJECTIONS) if rebuilt else projector.names()
    if name not in known:
        console.print(f"[red]no projection {name}; known: {', '.join(known)}[/red]")
        raise typer.Exit(2)


def _ring_projector(config: settings.Settings, name: str) -> None:
    """Ask a projector to catch up now; if the broker is down, beat will ring within seconds."""
    from store.celery_config import PROJECT, celery_app

    client = celery_app("eventshop-cli", config)
    try:
        client.send_task(PROJECT, args=[name], retry_policy={"max_retries": 1})
    except Exception:
        console.print("[yellow]could not reach the broker; beat will ring the projector[/yellow]")


app.add_typer(commands_app, name="commands")
app.add_typer(customers_app, name="customers")
app.add_typer(keys_app, name="keys")
app.add_typer(relay_app, name="relay")
app.command()(status)
app.command()(trace)


def main() -> None:
    app()
