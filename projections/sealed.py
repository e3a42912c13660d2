"""The read side opens sealed entries as it reads them from the log (``events.sealing``): each
stored entry comes with its wrapped data key, or none (written before sealing was turned on), or a
destroyed one (erased: its text reads as ``[erased]``).

The keyring is the process's own, set once at start-up from the settings (``use_keyring``); a
process without it refuses to read a sealed entry rather than read it as erased."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import asyncpg

from events.sealing import Keyring, KeyUnavailable, open_state
from projections.schema import EVENTS_TABLE

__all__ = ["KEYS_TABLE", "SELECT_STORED", "opened", "use_keyring"]

KEYS_TABLE = f"{EVENTS_TABLE}_keys"
SELECT_STORED = (
    "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state,"
    " k.master, k.wrapped, k.originator_id IS NOT NULL AS sealed"
    f" FROM {EVENTS_TABLE} e LEFT JOIN {KEYS_TABLE} k USING (originator_id, originator_version)"
)
"""Stored entries with their keys; a statement adds its WHERE (``e.`` names the events table)."""

_keyring: list[Keyring | None] = [None]


def use_keyring(keyring: Keyring | None) -> None:
    """Set the keyring this process opens sealed entries with."""
    _keyring[0] = keyring


def opened(records: Sequence[asyncpg.Record]) -> list[asyncpg.Record]:
    """The records with each sealed entry's state opened (or read as erased)."""
    keyring = _keyring[0]
    out: list[asyncpg.Record] = []
    for record in records:
        if not record["sealed"]:
            out.append(record)
            continue
        wrapped = record["wrapped"]
        if keyring is None and wrapped is not None:
            raise KeyUnavailable("A sealed entry needs WAYMARK_RECORD_KEY to be read")
        case_id, version = record["originator_id"], record["originator_version"]
        row = dict(record.items())
        if keyring is None:  # erased: nothing left to open, whatever the keys
            row["state"] = open_state(record["state"], None, case_id, version)
        else:
            row["state"] = keyring.open(record["state"], record["master"], wrapped, case_id, version)
        # Readers only index a record by column name, as they do a dict.
        out.append(cast(asyncpg.Record, row))
    return out
