"""What every ``waymark`` command shares: starting Waymark from the environment, with a settings
mistake answered as a command-line error rather than a traceback."""

from __future__ import annotations

from pathlib import Path

import click

from service.runtime import Runtime
from service.settings import Settings, SettingsError

__all__ = ["start_runtime"]


def start_runtime(data_dir: Path | str | None = None, *, database: str | None = None) -> Runtime:
    """Settings from the environment, then PostgreSQL reached (or started) and the case records open."""
    try:
        return Runtime.start(Settings.from_env(data_dir=data_dir), database=database)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
