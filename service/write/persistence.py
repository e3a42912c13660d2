"""How the eventsourcing library stores case events: plain JSON entries, and idempotency keys
recorded in the same transaction as the events they produced."""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent, Transcoder
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

from events.case import SNAPSHOT_TOPIC, CaseEvent, CaseSnapshot
from events.codec import decode_entry, encode_entry, type_name
from events.sealing import Keyring
from service.database import DatabaseAddress
from service.write.access_log import AccessLog, access_log_statements
from service.write.break_glass import break_glass_statements
from service.write.chain import GENESIS, Linked, link
from service.write.keys import KeyStatements, NotErasable, keys_statements

__all__ = [
    "CaseRecorder",
    "CaseStore",
    "EntryMapper",
    "Erasure",
    "IdempotencyKey",
    "KeyUse",
    "NotErasable",
    "eventsourcing_env",
]


class _NoTranscoder(Transcoder):
    """Entries serialise themselves with msgspec; the library's transcoder is never used."""

    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


class EntryMapper(Mapper[UUID]):
    """Stores each entry as plain JSON under its type name, so SQL readers see readable rows."""

    def __init__(self) -> None:
        super().__init__(transcoder=_NoTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if isinstance(domain_event, CaseSnapshot):
            return StoredEvent(
                originator_id=domain_event.originator_id,
                originator_version=domain_event.originator_version,
                topic=SNAPSHOT_TOPIC,
                state=msgspec.json.encode(domain_event),
            )
        if not isinstance(domain_event, CaseEvent):
            raise TypeError(f"Cannot store {type(domain_event).__name__}")
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=type_name(type(domain_event.entry)),
            state=encode_entry(domain_event.entry),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if stored_event.topic == SNAPSHOT_TOPIC:
            return msgspec.json.decode(stored_event.state, type=CaseSnapshot)
        return CaseEvent(
            UUID(str(stored_event.originator_id)),
            stored_event.originator_version,
            decode_entry(stored_event.topic, stored_event.state),
        )


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one write (scoped to the user who sent it) and the fingerprint of its request."""

    actor_id: str
    key: str
    request_hash: bytes

    @staticmethod
    def fingerprint(method: str, path: str, body: bytes) -> bytes:
        """Identify a request, so a reused key with a different request can be told apart."""
        return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).digest()


@dataclass(frozen=True)
class Erasure:
    """The entries (versions of one case) whose data keys an erasure destroys, with the erasure."""

    case_id: UUID
    versions: tuple[int, ...]


@dataclass(frozen=True)
class KeyUse:
    """What a write sent with an idempotency key produced."""

    key: IdempotencyKey
    case_id: UUID
    entry_id: UUID
    case_version: int


class CaseStore(ApplicationRecorder):
    """What CaseRecords needs of its recorder beyond the library's: idempotency keys kept with the events
    they produced (``insert_events(..., idempotency=KeyUse)`` refuses a key already used, with the
    library's IntegrityError, and stores nothing), the record-views log, and two lookups.

    CaseRecorder keeps them in PostgreSQL (production); MemoryCaseRecorder (service/write/memory.py) in
    the library's in-memory persistence, so the write application's own logic is testable without a
    database."""

    keyring: Keyring | None = None
    """Seals each new entry's text under a data key of its own (``events.sealing``); None: stored as
    sent (``WAYMARK_RECORD_KEY`` unset with an external database)."""

    def drop_snapshots(self, case_id: UUID) -> None:
        """Delete the case's snapshots (folded from text since erased); nothing to do in memory."""

    @abstractmethod
    def find_key(self, actor_id: str, key: str) -> tuple[KeyUse, int | None] | None:
        """What a key already used by this user produced, and that event's position."""

    @abstractmethod
    def record_view(
        self,
        actor_id: str,
        role: str,
        case_id: UUID,
        view: str,
        case_version: int | None,
        *,
        outcome: str = "served",
        purpose: str | None = None,
    ) -> None:
        """Log that a named user read a person's record, or was refused it (``outcome`` "refused"),
        and why (``purpose``: direct care, a break-glass grant, or the purpose governance stated),
        as NDG data security standards 2 and 4 ask."""

    def record_list_view(
        self, actor_id: str, role: str, case_ids: Sequence[UUID], view: str, purpose: str | None
    ) -> None:
        """Log a list naming these cases as a read of each (issue 12): one row per case."""
        for case_id in case_ids:
            self.record_view(actor_id, role, case_id, view, None, purpose=purpose)

    @abstractmethod
    def a_case_of(self, clinician_id: str) -> str | None:
        """The id of one case whose care team names the clinician."""

    @abstractmethod
    def ping(self) -> None:
        """Raise unless the store answers."""


class CaseRecorder(PostgresApplicationRecorder, CaseStore):
    """The library's recorder, plus an idempotency table written in the same transaction as the events."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.idempotency_table = Identifier(datastore.schema, "idempotency_keys")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " actor_id text NOT NULL, key text NOT NULL, request_hash bytea NOT NULL,"
                " case_id uuid NOT NULL, entry_id uuid NOT NULL, case_version bigint NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (actor_id, key))"
            ).format(self.idempotency_table)
        )
        self.sql_create_statements += access_log_statements(datastore.schema)
        self._access_log = AccessLog(datastore.schema)
        self.chain_table = Identifier(datastore.schema, f"{events_table_name}_chain")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, previous bigint NOT NULL,"
                " link bytea NOT NULL)"
            ).format(self.chain_table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (position bigint NOT NULL, link bytea NOT NULL,"
                " signed_at timestamptz NOT NULL, signature bytea NOT NULL, public_key bytea NOT NULL)"
            ).format(Identifier(datastore.schema, f"{events_table_name}_checkpoints"))
        )
        self.sql_create_statements += break_glass_statements(datastore.schema, events_table_name)
        self.sql_create_statements += keys_statements(datastore.schema, events_table_name)
        self._keys = KeyStatements(datastore.schema, events_table_name)
        self._insert_links = SQL(
            "INSERT INTO {} (position, previous, link)"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[])"
        ).format(self.chain_table)
        self._insert_key = SQL(
            "INSERT INTO {} (actor_id, key, request_hash, case_id, entry_id, case_version)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
        ).format(self.idempotency_table)
        # Ordered by position in the batch, so notification ids are issued in the events' order.
        # The chain's last link comes back with the new positions: one round trip fewer under the lock.
        self._insert_rows = SQL(
            "WITH last AS (SELECT position, link FROM {} ORDER BY position DESC LIMIT 1),"
            " added AS (INSERT INTO {} (originator_id, originator_version, topic, state)"
            " SELECT id, version, topic, state"
            " FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) WITH ORDINALITY"
            " AS batch(id, version, topic, state, n) ORDER BY n"
            " RETURNING notification_id)"
            " SELECT added.notification_id, last.position AS last_position, last.link AS last_link"
            " FROM added LEFT JOIN last ON true"
        ).format(self.chain_table, Identifier(datastore.schema, events_table_name))
        self._select_key = SQL(
            "SELECT k.request_hash, k.case_id, k.entry_id, k.case_version, e.notification_id"
            " FROM {} k LEFT JOIN {} e"
            " ON e.originator_id = k.case_id AND e.originator_version = k.case_version"
            " WHERE k.actor_id = %s AND k.key = %s"
        ).format(self.idempotency_table, Identifier(datastore.schema, events_table_name))
        self._select_case_of = SQL(
            "SELECT originator_id FROM {} WHERE topic = 'case_opened'"
            " AND convert_from(state, 'UTF8')::jsonb -> 'care_team' ? %s LIMIT 1"
        ).format(Identifier(datastore.schema, events_table_name))

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Append events (and an idempotency key) in one transaction under the library's table lock.

        Replaces the library's insert for two reasons. Its pipelined executemany could deadlock on a
        large batch over a unix socket (the embedded PostgreSQL), so all rows go in as one
        ``INSERT ... SELECT FROM unnest(...)``. And it retries failed inserts ten times, 0.2 s apart,
        where Waymark retries version races itself and answers 503 during an outage: one attempt here.
        """
        use: KeyUse | None = kwargs.get("idempotency")
        erasure: Erasure | None = kwargs.get("erasure")
        states, wrapped = self._seal(stored_events)  # before the lock: other writers wait less
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)  # commit order = notification order, so tailing readers skip nothing
            if use is not None:  # a key already used fails here, as a conflict, before any event
                key = use.key
                curs.execute(
                    self._insert_key,
                    (key.actor_id, key.key, key.request_hash, use.case_id, use.entry_id, use.case_version),
                    prepare=True,
                )
            self._notify_channel(curs)
            if not stored_events:
                return []
            curs.execute(
                self._insert_rows,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    states,
                ),
                prepare=True,
            )
            rows = curs.fetchall()
            positions = sorted(row["notification_id"] for row in rows)
            last = rows[0]
            self._link(curs, positions, stored_events, states, (last["last_position"], last["last_link"]))
            if wrapped is not None and self.keyring is not None:
                self._keys.insert(curs, stored_events, self.keyring.current, wrapped)
            if erasure is not None:
                self._keys.destroy(curs, erasure.case_id, erasure.versions)
            return positions

    def _seal(self, stored_events: Sequence[StoredEvent]) -> tuple[list[bytes], list[bytes] | None]:
        """Each entry's stored JSON, sealed under a fresh data key when sealing is on, and those keys
        wrapped under the master key."""
        if self.keyring is None:
            return [e.state for e in stored_events], None
        sealed = [
            self.keyring.seal(e.state, UUID(str(e.originator_id)), e.originator_version)
            for e in stored_events
        ]
        return [state for state, _ in sealed], [key for _, key in sealed]

    def _link(
        self,
        curs: Any,
        positions: list[int],
        stored_events: Sequence[StoredEvent],
        states: Sequence[bytes],
        last: tuple[int | None, bytes | None],
    ) -> None:
        """Chain the new entries onto the log's last link, ``last`` (position and link, or None for
        an empty log: ``service.write.chain``), in the same transaction and under the same table lock
        as the entries themselves."""
        at, last_link = last
        previous, at = (bytes(last_link), at) if last_link is not None else (GENESIS, 0)
        links, befores = [], []
        for position, event, state in zip(positions, stored_events, states, strict=True):
            # The link covers the bytes stored (sealed), so destroying a key later leaves it intact.
            entry = Linked(UUID(str(event.originator_id)), event.originator_version, event.topic, state)
            previous = link(previous, position, entry)
            links.append(previous)
            befores.append(at)
            at = position
        curs.execute(self._insert_links, (positions, befores, links), prepare=True)

    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        # One attempt, as for inserts (the library's select retries ten times too).
        stored: list[StoredEvent] = PostgresApplicationRecorder.select_events.__wrapped__(
            self, *args, **kwargs
        )
        return self._keys.opened(self.datastore, stored, self.keyring)

    def record_view(
        self,
        actor_id: str,
        role: str,
        case_id: UUID,
        view: str,
        case_version: int | None,
        *,
        outcome: str = "served",
        purpose: str | None = None,
    ) -> None:
        row = (actor_id, role, case_id, view, case_version, outcome, purpose)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            self._access_log.view(curs, row)

    def record_list_view(
        self, actor_id: str, role: str, case_ids: Sequence[UUID], view: str, purpose: str | None
    ) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            self._access_log.list_view(curs, (actor_id, role, view, purpose), case_ids)

    def drop_snapshots(self, case_id: UUID) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._keys.drop_snapshots(curs, case_id)

    def find_key(self, actor_id: str, key: str) -> tuple[KeyUse, int | None] | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_key, (actor_id, key), prepare=True)
            row = curs.fetchone()
        if row is None:
            return None
        used = IdempotencyKey(actor_id, key, bytes(row["request_hash"]))
        return KeyUse(used, row["case_id"], row["entry_id"], row["case_version"]), row["notification_id"]

    def a_case_of(self, clinician_id: str) -> str | None:
        with self.datastore.get_connection() as conn:
            row = conn.execute(self._select_case_of, [clinician_id]).fetchone()
        return str(row["originator_id"]) if row else None

    def ping(self) -> None:
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT 1")


def eventsourcing_env(
    address: DatabaseAddress, *, pool_size: int, overflow: int, connect_timeout: int
) -> dict[str, str]:
    """The library's settings for PostgreSQL; anything else in the process environment is overridden."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "service.write.persistence:CaseRecorder",
        "POSTGRES_DBNAME": address.dbname,
        "POSTGRES_HOST": address.host,
        "POSTGRES_PORT": str(address.port),
        "POSTGRES_USER": address.user,
        "POSTGRES_PASSWORD": address.password,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(overflow),
        "POSTGRES_CONNECT_TIMEOUT": str(connect_timeout),
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "y",
        # CaseRecorder.insert_events never uses the library's database-function insert (which takes
        # no table lock, so a tailing reader could skip events); "n" keeps the library's own paths
        # consistent with that.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }
