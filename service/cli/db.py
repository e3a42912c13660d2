"""``waymark db grant`` and ``waymark db rotate-pseudonym-key``: the database's roles and keys."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace

import asyncpg
import click
import psycopg
from rich.console import Console

from projections.generations import prepare_read_side
from projections.models import MODELS
from projections.reporting import REPORTING_ROLE, rotate_pseudonym_key
from service.cli.common import SettingsProblem, database_problem, open_database, read_settings
from service.database import DatabaseAddress
from service.grants import GrantRefused, grant_service_role
from service.settings import SettingsError

__all__ = ["db"]

console = Console(stderr=True)


@click.group()
def db() -> None:
    """Set up the database's roles (once, as an admin) and manage the reporting pseudonym key."""


@db.command()
@click.option("--role", default="waymark_service", show_default=True, help="The service's LOGIN role.")
@click.option("--database", default="waymark", show_default=True, help="The database it is to own.")
@click.option(
    "--password-env",
    metavar="NAME",
    help="Environment variable holding the role's password (set or changed; left alone if not given).",
)
def grant(role: str, database: str, password_env: str | None) -> None:
    """Create the least-privilege role Waymark runs as, and the reporting role (idempotent).

    Run once with a superuser's DATABASE_URL (it creates roles and hands over objects).
    The service role gets LOGIN and nothing else (no superuser, no CREATEDB, no CREATEROLE),
    owns DATABASE (created if missing; an existing one and its objects are handed to it), and
    PUBLIC loses CONNECT on it. waymark_reporting is created and may connect.
    """
    settings = read_settings()
    if settings.database_url is None:
        raise SettingsProblem("Set DATABASE_URL to an admin's postgresql:// URL for waymark db grant")
    password = None
    if password_env is not None:
        password = os.environ.get(password_env) or None
        if password is None:
            raise SettingsProblem(f"{password_env} (named by --password-env) is not set")
    try:
        admin = DatabaseAddress.from_url(settings.database_url)
        service = grant_service_role(admin, role=role, database=database, password=password)
    except SettingsError as error:
        raise SettingsProblem(str(error)) from None
    except GrantRefused as error:
        raise click.ClickException(str(error)) from None
    except psycopg.Error as error:
        raise database_problem(error) from None
    where = replace(service, password="").url  # never print the password
    if password:
        where = where.replace("@", ":<password>@", 1)
    console.print(f"{role} owns database {database}; {REPORTING_ROLE} may read its reporting views.")
    console.print(f"Run Waymark with DATABASE_URL={where}", soft_wrap=True)


@db.command(name="rotate-pseudonym-key")
@click.option("--data-dir", type=click.Path(), help="Where the embedded database lives.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0.1, max=3600),
    default=30.0,
    show_default=True,
    help="Seconds to wait for reads and projector batches that hold the key (an export, say) to end.",
)
def rotate(data_dir: str | None, wait: float) -> None:
    """Replace the reporting pseudonym key: every person, review and entry key in the reporting views
    changes at once, and no new key can be matched to an old one."""
    database = open_database(data_dir)

    async def replace_key() -> None:
        # Start-up's read side (views replaced) waits for the same readers: the same limit.
        limit = {"lock_timeout": f"{round(wait * 1000)}ms"}
        conn = await asyncpg.connect(database.address.url, server_settings=limit)
        try:
            await prepare_read_side(conn, [model() for model in MODELS.values()])
            await rotate_pseudonym_key(conn, wait_seconds=wait)
        finally:
            await conn.close()

    try:
        asyncio.run(replace_key())
    except asyncpg.LockNotAvailableError:
        raise click.ClickException(
            f"Reads or projector batches (an export under way?) held the read side for {wait:g} s:"
            " the key is unchanged. Run it again when they have ended, or with a longer --wait."
        ) from None
    finally:
        database.close()
    console.print("The pseudonym key is replaced: extracts taken before now no longer join new ones.")
