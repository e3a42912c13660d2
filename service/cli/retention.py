"""``waymark retention list``: closed cases past their retention period, for governance to appraise."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import asyncpg
import click
from rich.console import Console

from events.retention import retention_ends
from projections.queries.retention import RetentionDue, retention_due
from service.cli.common import open_database, read_settings

__all__ = ["retention"]

console = Console(stderr=True)


@click.group()
def retention() -> None:
    """Retention of closed case records (WAYMARK_RETENTION_YEARS after the last contact, 20 by default,
    as the English Records Management Code of Practice sets for mental-health records). Nothing is
    ever destroyed automatically: governance appraises each case and records its decision."""


@retention.command(name="list")
@click.option("--data-dir", type=click.Path(), help="Where the embedded database lives.")
@click.option("--all", "show_all", is_flag=True, help="Also list cases whose text was already erased.")
def list_due(data_dir: str | None, show_all: bool) -> None:
    """Print closed cases past their retention period, one a line (tab-separated: case id, service,
    last contact, retention ended on, decision), oldest contact first.

    To destroy a case's text after appraisal, governance records the decision with
    POST /cases/{id}/erasure-approvals (grounds retention_ended, decision_ref: where it is minuted),
    then carries it out with POST /cases/{id}/erasures naming that approval."""
    years = read_settings(data_dir).retention_years
    today = datetime.now(UTC).date()
    cutoff = retention_ends(today, -years)
    database = open_database(data_dir)
    try:
        console.print(f"Reading closed cases with no contact since {cutoff} ({years} years) ...")
        due = asyncio.run(_due(database.address.url, cutoff))
    finally:
        database.close()
    shown = [case for case in due if show_all or not case.erased]
    for case in shown:
        ended = retention_ends(case.last_contact.astimezone(UTC).date(), years)
        click.echo(
            f"{case.case_id}\t{case.service}\t{case.last_contact.astimezone(UTC).date()}\t{ended}\t{_status(case)}"
        )
    awaiting = sum(1 for case in due if case.decision_ref is None)
    console.print(
        f"{len(shown)} case(s) past retention; {awaiting} awaiting a governance decision"
        + ("." if not awaiting else ": appraise each, then record the decision (see --help).")
    )


def _status(case: RetentionDue) -> str:
    if case.erased:
        return f"erased ({case.decision_ref})"
    if case.decision_ref is not None:
        return f"erasure approved ({case.decision_ref}), not yet carried out"
    return "awaiting appraisal"


async def _due(dsn: str, cutoff: date) -> list[RetentionDue]:
    conn = await asyncpg.connect(dsn)
    try:
        return await retention_due(conn, cutoff)
    finally:
        await conn.close()
