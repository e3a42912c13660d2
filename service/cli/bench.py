"""``waymark bench``: the command and its options only. The suite (``service.tools.bench``, with httpx
and the process helpers) is imported when the command runs, never by serving or by the CLI itself."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["SUITES", "bench"]

SUITES = (
    "rebuild",
    "lag",
    "commands",
    "reads",
    "queries",
    "reports",
    "pages",
    "audit",
    "exports",
    "feed",
    "replica",
)


@click.command()
@click.argument("which", type=click.Choice(["all", *SUITES]), default="all")
@click.option(
    "--events",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(1),
    help="Events the benchmark database must hold (demo data is written to reach it).",
)
@click.option(
    "--months",
    default=24,
    show_default=True,
    type=click.IntRange(1, 120),
    help="Months the demo data written to reach --events spans (12: a year of --events).",
)
@click.option(
    "--runs", default=3, show_default=True, type=click.IntRange(1), help="Runs per figure (median)."
)
@click.option("--seconds", default=20.0, show_default=True, help="Duration of each timed run.")
@click.option(
    "--requests",
    default=200,
    show_default=True,
    type=click.IntRange(1),
    help="Requests per query and run in the queries suite (fewer for a slow query at 10M events).",
)
@click.option("--rate", default=100.0, show_default=True, help="Writes per second during the lag runs.")
@click.option(
    "--server",
    "servers",
    default="uvicorn",
    show_default=True,
    type=click.Choice(["uvicorn", "granian", "both"]),
    help="ASGI server(s) for the HTTP suites.",
)
@click.option(
    "--batch-size", default=2000, show_default=True, type=click.IntRange(1), help="Rebuild batch size."
)
@click.option(
    "--database",
    default="waymark_bench",
    show_default=True,
    help="Database (on the same server) the benchmarks use, kept apart from real data.",
)
@click.option(
    "--output", type=click.Path(path_type=Path), help="Append the results table to this Markdown file."
)
def bench(
    *,
    which: str,
    events: int,
    months: int,
    runs: int,
    seconds: float,
    requests: int,
    rate: float,
    servers: str,
    batch_size: int,
    database: str,
    output: Path | None,
) -> None:
    """Measure Waymark against the limits of this machine: each figure is the median of --runs runs,
    printed beside a raw baseline measured in the same run, with the ratio and the target."""
    from service.tools.bench.runner import run_bench  # noqa: PLC0415 - kept out of the CLI's imports

    run_bench(
        which=which,
        events=events,
        months=months,
        runs=runs,
        seconds=seconds,
        requests=requests,
        rate=rate,
        servers=servers,
        batch_size=batch_size,
        database=database,
        output=output,
    )
