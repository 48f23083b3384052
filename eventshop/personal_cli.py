"""`eventshop customers export ID` (the right of access) and `eventshop keys new|rotate` (the
master key that wraps every customer's data key); `eventshop.cli` registers them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from eventshop.options import DataDir, console, existing
from store import settings

if TYPE_CHECKING:
    from store.personal import MasterKeys

customers_app = typer.Typer(
    help="Customers' personal data: export everything held about one.", no_args_is_help=True
)
keys_app = typer.Typer(help="The master key that wraps customers' data keys.", no_args_is_help=True)


def _master_keys(config: settings.Settings) -> MasterKeys:
    from store import personal

    try:
        return personal.master_keys(config)
    except settings.SettingsError as error:
        typer.echo(f"eventshop: {error}", err=True)
        raise typer.Exit(2) from None


@customers_app.command("export")
def export(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    data_dir: DataDir = None,
) -> None:
    """Print everything held about one customer, its personal data opened, as JSON."""
    from store import customer_data, db, personal

    config = existing(data_dir)
    master = _master_keys(config)
    try:
        with db.reading(config.database_url) as connection:
            found = customer_data.export(connection, master, customer_id)
    except personal.MasterKeyError as error:
        typer.echo(f"eventshop: {error} (set EVENTSHOP_OLD_MASTER_KEYS)", err=True)
        raise typer.Exit(2) from None
    if found is None:
        typer.echo(f"eventshop: no customer has the id {customer_id}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(found, indent=2, ensure_ascii=False))


@keys_app.command("new")
def new() -> None:
    """Print a new master key, for EVENTSHOP_MASTER_KEY (keep it apart from the database)."""
    from store import personal

    typer.echo(personal.new_master_key())


@keys_app.command("rotate")
def rotate(data_dir: DataDir = None) -> None:
    """Wrap every data key with EVENTSHOP_MASTER_KEY; the older master keys, listed in
    EVENTSHOP_OLD_MASTER_KEYS, may be dropped once it has run."""
    from store import db, personal

    config = existing(data_dir)
    master = _master_keys(config)
    try:
        with db.writing(config.database_url) as connection:
            count = personal.rotate(connection, master)
    except personal.MasterKeyError as error:
        typer.echo(f"eventshop: {error} (list it in EVENTSHOP_OLD_MASTER_KEYS)", err=True)
        raise typer.Exit(2) from None
    console.print(f"[green]{count} data keys wrapped with the current master key[/green]")
