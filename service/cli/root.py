"""The ``waymark`` group: every command registered in one place, each from its own thin module."""

from __future__ import annotations

import click

from service.cli.audit import audit
from service.cli.bench import bench
from service.cli.db import db
from service.cli.demo import demo
from service.cli.keys import keys
from service.cli.projections import project, projections
from service.cli.retention import retention
from service.cli.serve import serve
from service.cli.token import token
from service.logs import configure_logging, log_format

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Waymark: an event-sourced case record service for recovery-focused care.

    Without DATABASE_URL, Waymark runs its own PostgreSQL in the data directory
    (WAYMARK_DATA_DIR, or --data-dir). Tokens are signed with WAYMARK_JWT_SECRET
    (HS256) or checked against WAYMARK_JWT_PUBLIC_KEY[_FILE] (RS256). Logs go to standard
    error as JSON lines (WAYMARK_LOG_FORMAT=json) or plain text (console; the default at a terminal).
    """
    try:
        configure_logging(log_format())
    except ValueError as error:
        raise click.UsageError(str(error)) from None


for command in (serve, token, demo, project, projections, bench, db, audit, retention, keys):
    main.add_command(command)
