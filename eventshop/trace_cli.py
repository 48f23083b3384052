"""`eventshop trace ID`: one correlation as a tree (`eventshop.cli` registers it): each command,
the events it appended, and under each event the commands a process manager issued for it."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from eventshop.options import DataDir, console, existing

STATUS_STYLES = {"SUCCEEDED": "green", "PENDING": "yellow", "REJECTED": "magenta", "FAILED": "red"}


def trace(
    correlation_id: Annotated[
        str,
        typer.Argument(help="A correlation id: an order's correlationId, or a request's X-Correlation-Id."),
    ],
    data_dir: DataDir = None,
) -> None:
    """Every command and event of one correlation, as a tree, and whether it has settled."""
    from store import db
    from store import trace as store_trace

    with db.reading(existing(data_dir).database_url) as connection:
        found = store_trace.load(connection, correlation_id)
    if not found.commands:
        console.print(f"[red]no command has the correlation id {escape(correlation_id)}[/red]")
        raise typer.Exit(1)
    console.print(tree(correlation_id, found))


def tree(correlation_id: str, found: Any) -> Tree:
    settled = "[green]settled[/green]" if found.settled else "[yellow]not settled yet[/yellow]"
    root = Tree(f"correlation [bold]{escape(correlation_id)}[/bold]: {settled}")
    events_of: dict[str, list[Any]] = {}
    for event in found.events:
        events_of.setdefault(event.metadata.get("command_id"), []).append(event)
    caused: dict[str | None, list[Any]] = {}
    for command in found.commands:
        caused.setdefault(command.causation_id, []).append(command)

    def add(branch: Tree, command: Any) -> None:
        style = STATUS_STYLES.get(command.status, "white")
        status = f"[{style}]{command.status}[/{style}]"
        line = f"{command.type} {status} {command.aggregate_type} {command.aggregate_id}"
        node = branch.add(line + (f" [dim]({escape(command.error)})[/dim]" if command.error else ""))
        for event in events_of.get(command.id, []):
            child = node.add(f"[cyan]{event.type}[/cyan] v{event.version} at position {event.position}")
            for next_command in caused.get(str(event.position), []):
                add(child, next_command)

    shown = {str(event.position) for event in found.events}
    for command in found.commands:
        if command.causation_id is None or command.causation_id not in shown:
            add(root, command)
    return root
