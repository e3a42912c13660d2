"""What every ``waymark`` command shares: starting Waymark from the environment, with a settings
mistake or an unreachable database answered as a one-line command-line error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import click
import eventsourcing.persistence
import psycopg

from service.bootstrap import Database, Runtime
from service.settings import Settings, SettingsError

__all__ = ["SettingsProblem", "database_problem", "open_database", "read_settings", "start_runtime"]


class SettingsProblem(click.ClickException):
    """A setting is missing or malformed: one line naming it, and exit status 2 (as for a usage error)."""

    exit_code = 2


def read_settings(data_dir: Path | str | None = None, *, serving: bool = False) -> Settings:
    """Settings from the environment; ``serving`` also requires a key to verify tokens with."""
    try:
        settings = Settings.from_env(data_dir=data_dir)
        if serving:
            settings.signing_key()
    except SettingsError as error:
        raise SettingsProblem(str(error)) from None
    return settings


def start_runtime(
    data_dir: Path | str | None = None, *, database: str | None = None, serving: bool = False
) -> Runtime:
    """Settings from the environment, then PostgreSQL reached (or started) and the case records open."""
    settings = read_settings(data_dir, serving=serving)
    try:
        return Runtime.start(settings, database=database)
    except SettingsError as error:
        raise SettingsProblem(str(error)) from None
    except (psycopg.Error, eventsourcing.persistence.OperationalError) as error:
        raise database_problem(error) from None


def open_database(data_dir: Path | str | None = None) -> Database:
    """Settings from the environment, then PostgreSQL reached (or started) with its events table, for
    the read side's commands: the write application (and its snapshot clean-up) is never opened."""
    settings = read_settings(data_dir)
    try:
        return Database.open(settings, event_store=True)
    except SettingsError as error:
        raise SettingsProblem(str(error)) from None
    except (psycopg.Error, eventsourcing.persistence.OperationalError) as error:
        raise database_problem(error) from None


def database_problem(error: Exception) -> click.ClickException:
    """A one-line answer for a database that did not answer, or refused DATABASE_URL's role."""
    text = str(error).strip()
    reason = text.splitlines()[0] if text else type(error).__name__
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return click.ClickException(
            f"PostgreSQL refused DATABASE_URL's role ({reason}): "
            "run `waymark db grant` with an admin's DATABASE_URL first, or use a role that may."
        )
    if isinstance(error, psycopg.OperationalError | eventsourcing.persistence.OperationalError):
        return click.ClickException(
            f"PostgreSQL did not answer ({reason}): check DATABASE_URL and that the server is running."
        )
    return click.ClickException(f"PostgreSQL refused: {reason}")
