"""``waymark keys rotate``: wrap every entry's data key under the current master key."""

from __future__ import annotations

import click

from service.cli.common import SettingsProblem, open_database, read_settings
from service.write.keys import rewrap

__all__ = ["keys"]


@click.group()
def keys() -> None:
    """The master key that wraps each entry's data key (WAYMARK_RECORD_KEY)."""


@keys.command()
@click.option("--data-dir", type=click.Path(), help="Where the embedded database lives.")
def rotate(data_dir: str | None) -> None:
    """Wrap every data key still standing under WAYMARK_RECORD_KEY. To rotate: set the new key as
    WAYMARK_RECORD_KEY and the old one in WAYMARK_RECORD_KEYS_RETIRED (serving processes then open
    both), run this, then drop the retired key. Safe to run again, and beside serving processes."""
    keyring = read_settings(data_dir).sealing().keyring()
    if keyring is None:
        raise SettingsProblem("Set WAYMARK_RECORD_KEY to the new master key (base64 of 32 bytes)")
    database = open_database(data_dir)
    try:
        done = rewrap(database.address, keyring)
    finally:
        database.close()
    click.echo(f"{done} data keys wrapped under master key {keyring.current}.")
    click.echo("The retired master keys may now be dropped (WAYMARK_RECORD_KEYS_RETIRED).")
