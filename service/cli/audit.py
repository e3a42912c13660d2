"""``waymark audit``: sign checkpoints of the hash chain, export them, and verify the chain."""

from __future__ import annotations

import sys
import time

import click
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from rich.console import Console

from service.cli.common import SettingsProblem, open_database, read_settings
from service.settings import Settings
from service.write.checkpoints import checkpoints, sign_checkpoint, verify_chain

__all__ = ["audit"]

console = Console(stderr=True)


@click.group()
def audit() -> None:
    """The tamper-evident record: every stored entry is linked into one hash chain; signed
    checkpoints pin it, and ``verify`` finds the first place it does not hold."""


def _private(settings: Settings) -> Ed25519PrivateKey:
    key = (
        load_pem_private_key(settings.audit_signing_key.encode(), None)
        if settings.audit_signing_key
        else None
    )
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsProblem("Set WAYMARK_AUDIT_SIGNING_KEY[_FILE] to a PEM Ed25519 private key")
    return key


def _public(settings: Settings) -> Ed25519PublicKey | None:
    if settings.audit_public_key:
        key = load_pem_public_key(settings.audit_public_key.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise SettingsProblem("WAYMARK_AUDIT_PUBLIC_KEY must be a PEM Ed25519 public key")
        return key
    return _private(settings).public_key() if settings.audit_signing_key else None


@audit.command()
def checkpoint() -> None:
    """Sign the chain's last link now and keep the checkpoint; print it as JSON (keep a copy elsewhere)."""
    key = _private(read_settings())
    database = open_database()
    try:
        made = sign_checkpoint(database.address, key)
    finally:
        database.close()
    if made is None:
        raise click.ClickException("The log is empty: there is nothing to sign yet.")
    click.echo(msgspec.json.encode(made).decode())


@audit.command("checkpoints")
def export_checkpoints() -> None:
    """Print every checkpoint kept, one JSON object a line, for a party outside the organisation."""
    database = open_database()
    try:
        for kept in checkpoints(database.address):
            click.echo(msgspec.json.encode(kept).decode())
    finally:
        database.close()


@audit.command()
@click.option("--from", "from_", type=click.IntRange(1), metavar="POSITION", help="Start at this checkpoint.")
def verify(from_: int | None) -> None:
    """Recompute the chain, check the checkpoints' signatures, and name the first break with its
    position (exit status 1), or say how many entries hold."""
    settings = read_settings()
    trusted = _public(settings)
    database = open_database()
    try:
        kept = checkpoints(database.address)
        start = next((c for c in kept if c.position == from_), None)
        if from_ is not None and (start is None or trusted is None or not start.signed_by(trusted)):
            raise click.ClickException(f"No checkpoint with a valid signature at position {from_}.")
        began = time.perf_counter()
        verdict = verify_chain(database.address, trusted, kept, start=start)
        seconds = time.perf_counter() - began
    finally:
        database.close()
    rate = verdict.checked / seconds if seconds else 0.0
    for position in verdict.unsigned:
        console.print(f"checkpoint at position {position}: its signature does not verify")
    if trusted is None and kept:
        console.print("no audit key set: checkpoints were not checked")
    if verdict.broken is not None:
        broken = verdict.broken
        click.echo(f"BROKEN at position {broken.position}: {broken.kind} ({broken.detail})")
        click.echo(f"{verdict.checked:,} entries held before it ({rate:,.0f} entries/s)")
        sys.exit(1)
    click.echo(f"the chain holds: {verdict.checked:,} entries after position {verdict.began_at}")
    click.echo(f"{len(kept) - len(verdict.unsigned)} checkpoints agree ({rate:,.0f} entries/s)")
    if verdict.unsigned:
        sys.exit(1)
