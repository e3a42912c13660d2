"""``waymark demo``: synthetic case records through the real write path. The generator
(``service.tools.demo``) is imported inside the functions, so registering the command imports none of it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from eventsourcing.persistence import IntegrityError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from service.bootstrap import Runtime
from service.cli.common import start_runtime

if TYPE_CHECKING:
    from service.tools.demo import DemoPlan

__all__ = ["demo", "write_demo_with_progress"]

console = Console(stderr=True)


def write_demo_with_progress(runtime: Runtime, plan: DemoPlan) -> int:
    """Write demo cases with a progress bar showing people done and entries per second."""
    from service.tools.demo import write_demo  # noqa: PLC0415 - the tools stay out of the CLI's imports

    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]demo data"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("people", total=plan.people, rate="")

        def progress(people: int, entries: int) -> None:
            rate = entries / max(time.perf_counter() - started, 1e-6)
            bar.update(task, completed=people, rate=f"{entries:,} entries, {rate:,.0f}/s")

        try:
            return write_demo(runtime.records, plan, progress)
        except IntegrityError:
            raise click.ClickException(
                f"Demo cases for seed {plan.seed} already exist in this database: pass another --seed."
            ) from None


@click.command()
@click.option(
    "--people", default=100, show_default=True, type=click.IntRange(1), help="People (cases) to create."
)
@click.option(
    "--months", default=12, show_default=True, type=click.IntRange(1, 240), help="Months of history each."
)
@click.option(
    "--seed", default=7, show_default=True, type=int, help="Random seed; the same seed gives the same cases."
)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Where the embedded database lives.")
def demo(people: int, months: int, seed: int, data_dir: Path | None) -> None:
    """Write synthetic case records through the real write path, in batched saves."""
    from service.tools.demo import DemoPlan  # noqa: PLC0415 - the tools stay out of the CLI's imports

    runtime = start_runtime(data_dir)
    try:
        started = time.perf_counter()
        entries = write_demo_with_progress(runtime, DemoPlan(people=people, months=months, seed=seed))
        elapsed = time.perf_counter() - started
        console.print(
            f"Wrote {entries:,} entries for {people:,} people in {elapsed:.1f} s "
            f"({entries / elapsed:,.0f} entries/s)."
        )
    finally:
        runtime.close()
