"""What ``waymark bench`` runs: the dataset, each suite, and the figures beside raw baselines."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from projections.models import MODELS
from service.bootstrap import Runtime
from service.cli.bench import SUITES
from service.cli.common import start_runtime
from service.tools.bench.audit import run_audit
from service.tools.bench.dataset import ensure_events
from service.tools.bench.lag import measure_lag
from service.tools.bench.outlets import run_exports, run_feed
from service.tools.bench.rebuild import raw_audit_rebuild, rebuild_rate
from service.tools.bench.replica import measure_replica_reads
from service.tools.bench.report import Figure, Report
from service.tools.bench.reports import run_reports
from service.tools.bench.serving import watch_peak_rss_mb
from service.tools.bench.suites import Bench, p
from service.tools.processes import BIN, Process

__all__ = ["run_bench"]

console = Console(stderr=True)


def _dataset(runtime: Runtime, events: int, months: int) -> int:
    with Progress(
        TextColumn("[bold]dataset"), BarColumn(), MofNCompleteColumn(), TextColumn("entries"), console=console
    ) as bar:
        start = runtime.records.recorder.max_notification_id() or 0
        task = bar.add_task("events", total=events, completed=min(start, events))
        return ensure_events(
            runtime,
            events,
            lambda _people, written: bar.update(task, completed=start + written),
            months=months,
        )


def run_rebuild(runner: Bench, *, batch_size: int) -> None:
    """Rebuild every projection beside the raw baseline, one of each per round, so a drift in the
    machine's speed during the suite touches both alike; then all at once in a process, for memory."""
    dsn = runner.runtime.address.url

    def rebuild_once(model: str) -> float:
        return asyncio.run(rebuild_rate(dsn, model, batch_size))

    measures: dict[str, Callable[[], float]] = {
        "raw": lambda: asyncio.run(raw_audit_rebuild(dsn, batch_size))
    }
    measures |= {name: partial(rebuild_once, name) for name in MODELS}
    rounds = runner.repeat(
        f"rebuild round (raw, {', '.join(MODELS)})", lambda: {name: run() for name, run in measures.items()}
    )
    baseline = [measured["raw"] for measured in rounds]
    for name in MODELS:
        runner.report.add(
            Figure(
                f"rebuild {name}",
                "events/s",
                [measured[name] for measured in rounds],
                baseline,
                "raw asyncpg, audit-equivalent rows",
                target=">= 30,000/s and >= 0.6x",
            )
        )
    runner.report.notes.append(f"raw rebuild runs: {', '.join(f'{rate:,.0f}' for rate in baseline)} events/s")
    process = Process([str(BIN / "waymark"), "projections", "rebuild", "all"], runner.env)
    runner.peaks["projector (rebuilding all)"] = watch_peak_rss_mb(process)


def run_lag(runner: Bench, *, rate: float) -> None:
    """Append at a steady rate with the projector live."""
    runs = runner.repeat(
        "lag",
        lambda: asyncio.run(
            measure_lag(runner.runtime.records, runner.runtime.address.url, seconds=runner.seconds, rate=rate)
        ),
    )
    runner.report.add(
        Figure("append-to-queryable lag p50", "ms", [p(r.lags_ms, 50) for r in runs], higher_is_better=False)
    )
    runner.report.add(
        Figure(
            "append-to-queryable lag p99",
            "ms",
            [p(r.lags_ms, 99) for r in runs],
            [p(r.raw_lags_ms, 99) for r in runs],
            "raw NOTIFY-woken reader p99",
            target="<= 250 ms",
            higher_is_better=False,
        )
    )


def run_replica(runner: Bench, *, writes: int = 200) -> None:
    """Read-your-writes through a streaming replica, beside reads on the primary, alternated per run."""
    console.print(f"replica: {runner.runs} runs of {writes} writes each read back, replica then primary")
    runs = measure_replica_reads(runner.runs, writes)
    for q in (50, 99):
        runner.report.add(
            Figure(
                f"write then min_position read p{q}, reads on a streaming replica",
                "ms",
                [p(run.replica_ms, q) for run in runs],
                [p(run.primary_ms, q) for run in runs],
                f"reads on the primary p{q}",
                higher_is_better=False,
            )
        )


def _served(runner: Bench, kind: str, chosen: tuple[str, ...], rate: float) -> None:
    """The suites that measure a served Waymark, on one ASGI server."""
    if "commands" in chosen:
        runner.commands(kind)
    if "reads" in chosen:
        runner.reads(kind)
    if "queries" in chosen:
        runner.queries(kind)
    if "reports" in chosen:
        run_reports(runner, kind)
    if "pages" in chosen:
        runner.pages(kind)
    if "exports" in chosen:
        run_exports(runner, kind)
    if "feed" in chosen:
        run_feed(runner, kind, rate=rate)


def run_bench(
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
    """Run the chosen suites (``waymark bench``'s options) on the benchmark database and print the report."""
    kinds = ["uvicorn", "granian"] if servers == "both" else [servers]
    if missing := [kind for kind in kinds if not (BIN / kind).exists()]:
        # granian is not a dependency: it is only measured against uvicorn when installed.
        raise click.ClickException(f"{', '.join(missing)} is not installed: pip install {' '.join(missing)}")
    runtime = start_runtime(database=database)
    report = Report()
    runner = Bench(runtime, report, console, runs=runs, seconds=seconds, requests=requests)
    try:
        report.notes.append(f"dataset: {_dataset(runtime, events, months):,} events in database {database}")
        chosen = SUITES if which == "all" else (which,)
        if "rebuild" in chosen:
            run_rebuild(runner, batch_size=batch_size)
        if "lag" in chosen:
            run_lag(runner, rate=rate)
        if "audit" in chosen:
            run_audit(runtime.address, report, runs)
        if "replica" in chosen:
            run_replica(runner)
        for kind in kinds:
            _served(runner, kind, chosen, rate)
        runner.memory()
    finally:
        runtime.close()
    report.print(Console(width=None if console.is_terminal else 200))
    if output:
        report.append_to(output)
