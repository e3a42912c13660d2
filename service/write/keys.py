"""The data keys sealed entries are encrypted under (``events.sealing``), one per entry, kept beside
the log in ``<events>_keys``: the key wrapped under a master key, and which master key. Erasure
destroys keys (``wrapped`` set to null, ``erased_at`` set), never the entries: the log and its
hash chain are untouched, and the text can no longer be opened from the database or any backup of
the events table taken before or after.

Backups of the keys table are the one place a destroyed key survives: keep them on the shorter
rotation the erasure policy needs (docs/erasure.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Composed, Identifier

from events.sealing import Keyring, open_stored
from service.database import DatabaseAddress

__all__ = ["KeyStatements", "NotErasable", "keys_statements", "rewrap"]


class NotErasable(Exception):
    """Some text an erasure names was never sealed (stored before sealing was turned on, or sealing
    is off): destroying keys cannot erase it, so nothing is recorded."""


def keys_statements(schema: str, events_table: str) -> list[Composed]:
    """Statements run at every start-up: each creates only what is missing."""
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
            " master text NOT NULL, wrapped bytea, erased_at timestamptz,"
            " PRIMARY KEY (originator_id, originator_version))"
        ).format(Identifier(schema, f"{events_table}_keys"))
    ]


class KeyStatements:
    """Storing, destroying and reading the data keys of one events table."""

    def __init__(self, schema: str, events_table: str) -> None:
        table = Identifier(schema, f"{events_table}_keys")
        self._insert = SQL(
            "INSERT INTO {} (originator_id, originator_version, master, wrapped)"
            " SELECT id, version, %s, wrapped FROM unnest(%s::uuid[], %s::bigint[], %s::bytea[])"
            " AS batch(id, version, wrapped)"
        ).format(table)
        self._destroy = SQL(
            "UPDATE {} SET wrapped = NULL, erased_at = clock_timestamp()"
            " WHERE originator_id = %s AND originator_version = ANY(%s::bigint[]) AND wrapped IS NOT NULL"
        ).format(table)
        self._count = SQL(
            "SELECT count(*) AS n FROM {} WHERE originator_id = %s AND originator_version = ANY(%s::bigint[])"
        ).format(table)
        self._snapshots = SQL("DELETE FROM {} WHERE originator_id = %s").format(
            Identifier(schema, events_table.removesuffix("_events") + "_snapshots")
        )
        self._select = SQL(
            "SELECT originator_version, master, wrapped FROM {}"
            " WHERE originator_id = %s AND originator_version = ANY(%s::bigint[])"
        ).format(table)

    def insert(self, curs: Any, events: Sequence[StoredEvent], master: str, wrapped: list[bytes]) -> None:
        """Keep the wrapped data keys of new entries, in the transaction that stores them."""
        ids = [event.originator_id for event in events]
        versions = [event.originator_version for event in events]
        curs.execute(self._insert, (master, ids, versions, wrapped), prepare=True)

    def destroy(self, curs: Any, case_id: UUID, versions: Sequence[int]) -> None:
        """Destroy the data keys of these entries, and drop the case's snapshots (folded from the text
        before it was erased; the case is folded again from its entries). Every entry named must
        have a key still standing, else nothing is destroyed (the transaction fails)."""
        curs.execute(self._count, (case_id, list(versions)))
        missing = len(set(versions)) - curs.fetchone()["n"]
        if missing:
            raise NotErasable(f"{missing} of the entries named were never sealed")
        curs.execute(self._destroy, (case_id, list(versions)))
        self.drop_snapshots(curs, case_id)

    def drop_snapshots(self, curs: Any, case_id: UUID) -> None:
        """Delete a case's snapshots (the case folds again from its entries)."""
        curs.execute(self._snapshots, (case_id,))

    def opened(
        self, datastore: PostgresDatastore, stored: list[StoredEvent], keyring: Keyring | None
    ) -> list[StoredEvent]:
        """Stored entries of one case with their sealed text opened, or read as erased."""
        if not stored:
            return stored
        case_id = stored[0].originator_id
        with datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select, (case_id, [e.originator_version for e in stored]), prepare=True)
            keys = {row["originator_version"]: (row["master"], row["wrapped"]) for row in curs.fetchall()}
        if not keys:
            return stored
        return [_open(event, keys.get(event.originator_version), keyring) for event in stored]


def _open(event: StoredEvent, key: tuple[str, bytes | None] | None, keyring: Keyring | None) -> StoredEvent:
    if key is None:
        return event  # stored before sealing was turned on
    master, wrapped = key
    case_id, version = UUID(str(event.originator_id)), event.originator_version
    stored_key = None if wrapped is None else bytes(wrapped)
    state = open_stored(event.state, master, stored_key, case_id, version, keyring=keyring)
    return StoredEvent(event.originator_id, event.originator_version, event.topic, state)


def rewrap(address: DatabaseAddress, keyring: Keyring, *, batch: int = 1000) -> int:
    """Wrap every standing data key under the keyring's current master key (after a rotation: the old
    master key set retired), a batch per transaction; return how many were wrapped again. Destroyed
    keys stay destroyed. Once it returns, the retired master keys can be dropped."""
    done = 0
    select = (
        "SELECT originator_id, originator_version, master, wrapped FROM case_records_events_keys"
        " WHERE master <> %s AND wrapped IS NOT NULL LIMIT %s FOR UPDATE SKIP LOCKED"
    )
    update = (
        "UPDATE case_records_events_keys SET master = %s, wrapped = %s"
        " WHERE originator_id = %s AND originator_version = %s"
    )
    with psycopg.connect(**address.connect_kwargs()) as conn:
        while True:
            with conn.transaction():
                rows = conn.execute(select, (keyring.current, batch)).fetchall()
                for case_id, version, master, wrapped in rows:
                    key = keyring.unwrap(master, bytes(wrapped), case_id, version)
                    conn.execute(
                        update, (keyring.current, keyring.wrap(key, case_id, version), case_id, version)
                    )
            done += len(rows)
            if len(rows) < batch:
                return done
