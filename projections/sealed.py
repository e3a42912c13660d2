"""The read side opens sealed entries as it reads them from the log (``events.sealing``): each
stored entry comes with its wrapped data key, or none (written before sealing was turned on), or a
destroyed one (erased: its text reads as ``[erased]``).

The process's master keys are given once at start-up from the settings (``use_keyring``; a
process running several Waymarks, as the tests do, holds the keys of each); a process without the
key an entry's data key was wrapped under refuses to read it rather than read it as erased."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import asyncpg

from events.sealing import Keyring, SealBroken, open_stored
from projections.schema import EVENTS_TABLE

__all__ = ["KEYS_TABLE", "SELECT_STORED", "opened", "use_keyring"]

log = logging.getLogger("waymark.projections")

KEYS_TABLE = f"{EVENTS_TABLE}_keys"
SELECT_STORED = (
    "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state,"
    " k.master, k.wrapped, k.originator_id IS NOT NULL AS sealed"
    f" FROM {EVENTS_TABLE} e LEFT JOIN {KEYS_TABLE} k USING (originator_id, originator_version)"
)
"""Stored entries with their keys; a statement adds its WHERE (``e.`` names the events table)."""

_masters: dict[str, Keyring] = {}
"""Each master key this process holds, by its id, with a keyring that opens with it."""


def use_keyring(keyring: Keyring | None) -> None:
    """Add the master keys of a keyring to those this process opens sealed entries with."""
    if keyring is not None:
        _masters.update(dict.fromkeys(keyring.masters, keyring))


def opened(records: Sequence[asyncpg.Record]) -> list[asyncpg.Record]:
    """The records with each sealed entry's state opened (or read as erased)."""
    out: list[asyncpg.Record] = []
    for record in records:
        if not record["sealed"]:
            out.append(record)
            continue
        case_id, version = record["originator_id"], record["originator_version"]
        row = dict(record.items())
        try:
            keyring = _masters.get(record["master"])
            row["state"] = open_stored(
                record["state"], record["master"], record["wrapped"], case_id, version, keyring=keyring
            )
        except SealBroken:
            # An entry altered outside Waymark reads as undecodable: the projector parks it (and
            # applies the rest) rather than stall on it, and `waymark audit verify` names it.
            log.warning(
                "an entry does not open under its key: parked (position %s)", record["notification_id"]
            )
            row["state"] = b""
        # Readers only index a record by column name, as they do a dict.
        out.append(cast(asyncpg.Record, row))
    return out
