"""``waymark token``: a signed bearer token for local use."""

from __future__ import annotations

from pathlib import Path

import click

from events.values import Role
from service.cli.common import SettingsProblem, read_settings
from service.http.auth import LifetimeTooLong, issue_token

__all__ = ["token"]


@click.command()
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
@click.option(
    "--organisation",
    help="The user's organisation, when one installation serves several (WAYMARK_ORGANISATIONS).",
)
def token(sub: str, role: str, ttl: int, data_dir: Path | None, organisation: str | None) -> None:
    """Print a signed bearer token for local use."""
    settings = read_settings(data_dir, serving=True)
    if settings.organisations and organisation not in settings.organisations:
        choices = ", ".join(settings.organisations)
        raise click.BadParameter(
            f"name one of the organisations served: {choices}", param_hint="'--organisation'"
        )
    try:
        click.echo(
            issue_token(settings, sub=sub, role=Role(role), ttl_seconds=ttl, organisation=organisation)
        )
    except PermissionError as error:
        raise SettingsProblem(str(error)) from None
    except LifetimeTooLong as error:
        raise click.BadParameter(str(error), param_hint="'--ttl'") from None
