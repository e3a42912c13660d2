"""``waymark project`` and ``waymark projections status|rebuild|retry``: running, inspecting and
repairing the read side."""

from __future__ import annotations

import asyncio
import signal
import time

import asyncpg
import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from projections.generations import prepare, prepare_read_side
from projections.models import MODELS
from projections.rebuild import RebuildAlreadyRunning, RebuildResult, rebuild
from projections.retry import Retried, retry_parked
from projections.status import projection_status
from service.bootstrap import Database, projector
from service.cli.common import open_database

__all__ = ["project", "projections"]

console = Console(stderr=True)


def _dsn(data_dir: str | None) -> tuple[Database, str]:
    database = open_database(data_dir)
    return database, database.address.url


@click.command()
@click.option("--data-dir", type=click.Path(), help="Where the embedded database lives.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def project(data_dir: str | None, batch_size: int) -> None:
    """Run the projector alone (for deployments that scale out). Of several, one leads each projection."""
    database = open_database(data_dir)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await projector(database.address, batch_size=batch_size).run(stop)

    try:
        asyncio.run(run())
    finally:
        database.close()


@click.group()
def projections() -> None:
    """Inspect and rebuild the read side's projections."""


@projections.command()
@click.option("--data-dir", type=click.Path(), help="Where the embedded database lives.")
def status(data_dir: str | None) -> None:
    """Each projection's position, its lag behind the log in events and in seconds, and how many
    events it has parked (could not apply; see ``waymark projections retry``)."""
    database, dsn = _dsn(data_dir)

    async def show() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await prepare(conn)
            rows = await projection_status(conn)
        finally:
            await conn.close()
        table = Table(
            "projection",
            "generation",
            "state",
            "position",
            "head",
            "lag (events)",
            "lag (s)",
            "updated",
            "stalled on",
            "parked",
        )
        for row in rows:
            table.add_row(
                row.name,
                str(row.generation),
                row.state,
                f"{row.position:,}",
                f"{row.head:,}",
                f"{row.lag_events:,}",
                f"{row.lag_seconds:.1f}",
                f"{row.updated_at:%Y-%m-%d %H:%M:%S}",
                row.stalled or "",
                f"{row.parked:,}",
            )
        Console().print(table)

    try:
        asyncio.run(show())
    finally:
        database.close()


@projections.command(name="rebuild")
@click.argument("name", type=click.Choice([*MODELS, "all"]))
@click.option("--data-dir", type=click.Path(), help="Where the embedded database lives.")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1, 50_000))
def rebuild_command(name: str, data_dir: str | None, batch_size: int) -> None:
    """Rebuild NAME into fresh tables while the old ones serve, then switch atomically.

    An interrupted rebuild resumes where it stopped when run again.
    """
    database, dsn = _dsn(data_dir)
    names = list(MODELS) if name == "all" else [name]
    try:
        asyncio.run(_prepare(dsn))
        for each in names:
            result = asyncio.run(_rebuild_one(dsn, each, batch_size))
            console.print(
                f"{each}: generation {result.generation} live; {result.events:,} events in "
                f"{result.seconds:.1f} s ({result.rate:,.0f} events/s)"
            )
    except RebuildAlreadyRunning as error:
        raise click.ClickException(f"A rebuild of {error} is already running.") from None
    finally:
        database.close()


@projections.command(name="retry")
@click.argument("name", type=click.Choice([*MODELS, "all"]), default="all")
@click.option("--data-dir", type=click.Path(), help="Where the embedded database lives.")
def retry_command(name: str, data_dir: str | None) -> None:
    """Apply NAME's parked events again (all projections by default), in log order, after a fix.

    Those that now apply are applied once and leave the parked list; the others stay parked.
    """
    database, dsn = _dsn(data_dir)
    names = list(MODELS) if name == "all" else [name]
    try:
        asyncio.run(_prepare(dsn))
        for each in names:
            _print_retried(asyncio.run(_retry_one(dsn, each)))
    finally:
        database.close()


async def _retry_one(dsn: str, name: str) -> Retried:
    conn = await asyncpg.connect(dsn)
    try:
        return await retry_parked(conn, MODELS[name]())
    finally:
        await conn.close()


def _print_retried(retried: Retried) -> None:
    out = Console(highlight=False)
    applied, still = len(retried.applied), len(retried.parked)
    out.print(f"{retried.name}: {applied:,} parked events applied, {still:,} still parked")
    for event in retried.parked:
        out.print(
            f"  position {event.position:,} (case {event.case_id}, entry {event.entry_id or 'unknown'}):"
            f" {event.error}"
        )


async def _prepare(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await prepare_read_side(conn, [m() for m in MODELS.values()])
    finally:
        await conn.close()


async def _rebuild_one(dsn: str, name: str, batch_size: int) -> RebuildResult:
    model = MODELS[name]()
    started = time.perf_counter()
    with Progress(
        TextColumn(f"[bold]{name}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(name, total=None, detail="")

        def progress(position: int, head: int, applied: int) -> None:
            rate = applied / max(time.perf_counter() - started, 1e-6)
            bar.update(
                task,
                total=head,
                completed=position,
                detail=f"{position:,}/{head:,}  {rate:,.0f} events/s",
            )

        return await rebuild(dsn, model, batch_size=batch_size, progress=progress)
