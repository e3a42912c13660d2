"""Periodic signed checkpoints: a serving process signs the chain's last link every so many entries
or minutes, so a rewritten tail is caught without anyone remembering ``waymark audit checkpoint``.

Several serving processes may run: the one holding a transaction-level advisory lock decides and
signs, the others skip that round, so one checkpoint is written per round, not one per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from service.database import DatabaseAddress
from service.settings import Settings, SettingsError
from service.write.checkpoints import Checkpoint, sign_checkpoint

__all__ = ["CheckpointPolicy", "checkpoint_if_due", "keep_checkpoints", "periodic_checkpoints"]

log = logging.getLogger("waymark.audit")

_LOCK = 0x57415943  # "WAYC": one process decides each round
_STATE = (
    "SELECT (SELECT max(position) FROM case_records_events_chain),"
    " (SELECT max(position) FROM case_records_events_checkpoints),"
    " (SELECT max(signed_at) FROM case_records_events_checkpoints)"
)


@dataclass(frozen=True)
class CheckpointPolicy:
    """When a checkpoint is due: this many entries since the last one, or this long since it was
    signed (with at least one entry since); ``check_seconds`` is how often a process looks."""

    every_entries: int = 10_000
    every: timedelta = timedelta(minutes=60)
    check_seconds: float = 5.0

    def due(self, last: int | None, signed: int | None, signed_at: datetime | None, now: datetime) -> bool:
        """Whether to sign now: entries since the last checkpoint (``signed``) reach the count, or
        some entries are unsigned and the last checkpoint is older than ``every``."""
        if last is None or (signed is not None and last <= signed):
            return False
        if last - (signed or 0) >= self.every_entries:
            return True
        return signed_at is None or now - signed_at >= self.every


def periodic_checkpoints(settings: Settings) -> tuple[Ed25519PrivateKey, CheckpointPolicy] | None:
    """The key and policy a serving process signs checkpoints with; None without a signing key."""
    if not settings.audit_signing_key:
        return None
    key = load_pem_private_key(settings.audit_signing_key.encode(), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError("WAYMARK_AUDIT_SIGNING_KEY must be a PEM Ed25519 private key")
    policy = CheckpointPolicy(
        every_entries=settings.audit_checkpoint_entries,
        every=timedelta(minutes=settings.audit_checkpoint_minutes),
        check_seconds=settings.audit_checkpoint_check_seconds,
    )
    return key, policy


def checkpoint_if_due(
    address: DatabaseAddress, key: Ed25519PrivateKey, policy: CheckpointPolicy, now: datetime
) -> Checkpoint | None:
    """Sign a checkpoint if one is due at ``now`` (a value, so tests need no waiting) and this
    process holds the round's lock; the checkpoint made, else None. Blocking."""
    with psycopg.connect(**address.connect_kwargs()) as conn, conn.transaction():
        if not conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_LOCK,)).fetchone()[0]:  # type: ignore[index]
            return None
        last, signed, signed_at = conn.execute(_STATE).fetchone()  # type: ignore[misc]
        if not policy.due(last, signed, signed_at, now):
            return None
        # Signed while the lock is held, so another process deciding now sees this checkpoint.
        return sign_checkpoint(address, key)


async def keep_checkpoints(
    address: DatabaseAddress, key: Ed25519PrivateKey, policy: CheckpointPolicy, stop: asyncio.Event
) -> None:
    """Until ``stop``: every ``check_seconds``, sign a checkpoint when one is due. A round that fails
    (the database away) is logged and the next round tries again."""
    while not stop.is_set():
        try:
            made = await anyio.to_thread.run_sync(
                lambda: checkpoint_if_due(address, key, policy, datetime.now(UTC))
            )
            if made is not None:
                log.info("checkpoint signed at position %d", made.position)
        except psycopg.Error as error:
            log.warning("no checkpoint this round: %s", type(error).__name__)
        with contextlib.suppress(TimeoutError):  # the round's wait is over; stop ends it early
            await asyncio.wait_for(stop.wait(), policy.check_seconds)
