"""`eventshop relay run` (the Procfile's `relay`, which `eventshop up` starts when EVENTSHOP_PUBLISH
is set) and `eventshop relay replay --from P`; `eventshop.cli` registers them."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from eventshop.options import DataDir, console, existing

relay_app = typer.Typer(help="Publish the events to NATS JetStream or Redis Streams.", no_args_is_help=True)


@relay_app.command("run")
def run(data_dir: DataDir = None) -> None:
    """Follow the feed and publish every event to EVENTSHOP_PUBLISH, until stopped (SIGTERM, Ctrl-C)."""
    from store import logs, metrics
    from workers import relay
    from workers.sinks import sink_for

    config = existing(data_dir)
    logs.configure(config.json_logs, config.log_level)
    if config.metrics_port is not None:
        metrics.serve(config.database_url, config.metrics_port)

    async def publish() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        if config.publish is None:
            logs.get(__name__).info("EVENTSHOP_PUBLISH is not set: the relay has nothing to do")
            await stop.wait()
            return
        await relay.run(config, sink_for(config), stop)

    asyncio.run(publish())


@relay_app.command("replay")
def replay(
    start: Annotated[int, typer.Option("--from", min=1, help="The first position to publish again.")],
    end: Annotated[int | None, typer.Option("--to", min=1, help="The last one (default: the head).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Publish a range of events again (the relay's checkpoint stays where it is). JetStream drops
    those it still holds within its duplicate window; Redis Streams takes only positions after its
    newest entry (its entry ids are positions)."""
    from workers import relay
    from workers.sinks import sink_for
    from workers.sinks.base import SinkError

    config = existing(data_dir)
    if config.publish is None:
        typer.echo("eventshop: EVENTSHOP_PUBLISH is not set: there is no sink to replay to", err=True)
        raise typer.Exit(2)
    try:
        sent = asyncio.run(relay.replay(config, sink_for(config), start, end))
    except SinkError as error:
        typer.echo(f"eventshop: {error}", err=True)
        raise typer.Exit(1) from None
    console.print(f"[green]{sent} events published again[/green]")
