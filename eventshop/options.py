"""What every eventshop command shares: the console, the data folder option, and the settings
that folder leads to."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from store import settings

console = Console()

DataDir = Annotated[
    Path | None,
    typer.Option(
        help="The data folder (SQLite file, embedded broker, beat schedule). "
        "Default: $EVENTSHOP_DATA_DIR, else ./eventshop-data."
    ),
]
DEFAULT_DATA_DIR = None
METRICS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def use(data_dir: Path | None) -> settings.Settings:
    """The settings for `data_dir`, read once; the folder is also put in the environment, for the
    processes this one starts."""
    if data_dir is not None:
        os.environ["EVENTSHOP_DATA_DIR"] = str(data_dir.resolve())
    try:
        config = settings.load()
    except (settings.SettingsError, ValueError) as error:
        typer.echo(f"eventshop: {error}", err=True)
        raise typer.Exit(2) from None
    os.environ["EVENTSHOP_DATA_DIR"] = str(config.data_dir)
    return config


def existing(data_dir: Path | None) -> settings.Settings:
    """Like `use`, but exit 2 with one line unless the database holds eventshop's tables."""
    from store import db

    config = use(data_dir)
    problem = db.missing(config.database_url)
    if problem:
        typer.echo(f"eventshop: {problem}", err=True)
        raise typer.Exit(2)
    return config


def metrics_directory(config: settings.Settings, empty: bool) -> None:
    """Where this process and those it starts keep their metrics (prometheus_client's multiprocess
    mode reads the variable when it is first imported, so this comes first). Emptied by `up`,
    which starts every process; kept by the processes of a Procfile, which start one by one."""
    folder = Path(os.environ.get(METRICS_VARIABLE) or config.data_dir / "metrics")
    if empty:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[METRICS_VARIABLE] = str(folder)
