"""``waymark serve``: the HTTP API under uvicorn, with the projector in the same process by default.

The demo generator is imported only when demo data is loaded: serving never imports the tools."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn
from rich.console import Console

from service.bootstrap import app_extensions
from service.cli.common import read_settings, start_runtime
from service.http.app import create_app, settle_heap
from service.http.organisations import organisations_app
from service.settings import Settings

__all__ = ["serve"]

console = Console(stderr=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Where the embedded database lives.")
@click.option(
    "--projector/--no-projector",
    default=None,
    help="Run the projector in this process (turn off when `waymark project` runs separately; "
    "default: on, unless WAYMARK_PROJECTOR=off).",
)
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Load demo cases when the database is empty (default: only with the embedded database).",
)
def serve(host: str, port: int, data_dir: Path | None, projector: bool | None, demo: bool | None) -> None:
    """Serve the HTTP API (OpenAPI browser at /schema)."""
    if (several := read_settings(data_dir, serving=True)).organisations:
        _serve_organisations(several, host, port, projector)
        return
    runtime = start_runtime(data_dir, serving=True)
    settings = runtime.settings
    # Only the embedded demo database (a throwaway on this machine) offers its demo users a sign-in
    # without a password; nothing secret is printed (output ends up in logs).
    demo_database = settings.embedded and demo is not False
    try:
        if (
            settings.embedded if demo is None else demo
        ) and runtime.records.recorder.max_notification_id() is None:
            from service.cli.demo import write_demo_with_progress  # noqa: PLC0415 - only for demo data
            from service.tools.demo import DemoPlan  # noqa: PLC0415

            entries = write_demo_with_progress(runtime, DemoPlan())
            console.print(f"Loaded {entries:,} demo entries.")
        url = f"http://{host}:{port}"
        console.print(f"\n[bold]Waymark[/bold] is starting at {url}  (API browser: {url}/schema)")
        if demo_database:
            _announce_demo(url)
        # The app closes the runtime on shutdown: after SIGTERM uvicorn re-raises the signal once it has
        # drained, so code after uvicorn.run would not run.
        app = create_app(
            runtime,
            run_projector=settings.run_projector if projector is None else projector,
            owns_runtime=True,
            extensions=app_extensions(settings, demo=demo_database),
        )
        settle_heap()
        # Waymark's log handler formats uvicorn's lines too; its own request line replaces the access log.
        uvicorn.run(app, host=host, port=port, log_level="info", log_config=None, access_log=False)
    finally:
        runtime.close()


def _serve_organisations(settings: Settings, host: str, port: int, projector: bool | None) -> None:
    """Several organisations (``WAYMARK_ORGANISATIONS``): a Waymark each on its own database, behind one
    router choosing by the token's organisation claim. No demo data and no pages' sign-in."""
    app = organisations_app(
        settings, run_projector=settings.run_projector if projector is None else projector
    )
    url = f"http://{host}:{port}"
    console.print(
        f"\n[bold]Waymark[/bold] is starting at {url} for {len(settings.organisations)} organisations "
        f"(tokens name theirs in the '{settings.organisation_claim}' claim)"
    )
    settle_heap()
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=None, access_log=False)


def _announce_demo(url: str) -> None:
    """Where to sign in to the pages as a demo user (issue 10: the address instead of a token)."""
    console.print(f"Sign in as a demo user at {url}/app/sign-in  (API tokens: `waymark token --help`)\n")
