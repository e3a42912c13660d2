"""Applying a batch of events to a read model: rows buffered per table and written with COPY,
corrections applied in order, all inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from events.codec import decode_entry, type_name
from events.entries import Entry, EntryCorrected
from projections.models.base import CORRECTION, EventAt, ReadModel, Row
from projections.schema import EVENTS_TABLE, generation_of
from projections.sealed import SELECT_STORED, opened

__all__ = [
    "SELECT_AT_POSITIONS",
    "SELECT_LATER_CORRECTIONS",
    "BatchWriter",
    "apply_events",
    "head_position",
    "read_events",
]

_SELECT = SELECT_STORED
_SELECT_EVENTS = f"{_SELECT} WHERE e.notification_id > $1 ORDER BY e.notification_id LIMIT $2"
SELECT_AT_POSITIONS = f"{_SELECT} WHERE e.notification_id = ANY($1::bigint[]) ORDER BY e.notification_id"
SELECT_LATER_CORRECTIONS = (
    f"{_SELECT} WHERE e.originator_id = $1 AND e.notification_id > $2 AND e.notification_id <= $3"
    f" AND e.topic = '{CORRECTION}' AND e.notification_id <> ALL($4::bigint[]) ORDER BY e.notification_id"
)
"""A case's corrections between two positions, except those at the positions given (fetch them
through ``projections.sealed.opened``)."""
_SELECT_CASE_UNTIL = (
    f"{_SELECT} WHERE e.originator_id = $1 AND e.notification_id <= $2 ORDER BY e.notification_id"
)
ERASURE = "text_erased"
# This generation's only: a rebuild's generation may have parked what the live one applied.
_PARKED = "SELECT position FROM read_meta.parked_events WHERE name = $1 AND case_id = $2 AND generation = $3"


async def read_events(conn: asyncpg.Connection, after: int, limit: int) -> list[asyncpg.Record]:
    """The next events of the global log after a position, sealed entries opened."""
    return opened(await conn.fetch(_SELECT_EVENTS, after, limit))


async def head_position(conn: asyncpg.Connection) -> int:
    """The position of the last event in the global log (0 when it is empty)."""
    return int(await conn.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"))


class BatchWriter:
    """Buffers a model's rows per table and writes them with COPY when flushed."""

    def __init__(self, conn: asyncpg.Connection, schema: str, model: ReadModel) -> None:
        self.conn, self.schema, self.model = conn, schema, model
        self.columns = {table.name: table.column_names for table in model.tables}
        self.buffers: dict[str, list[tuple[Any, ...]]] = {name: [] for name in self.columns}
        self.written: dict[str, list[tuple[Any, ...]]] = {name: [] for name in self.columns}
        self.corrected: list[Entry] = []

    def add(self, entry_id: UUID, row: Row, *, corrected: bool = False) -> None:
        """Queue a row that belongs to the entry ``entry_id``."""
        table, values = row
        self.buffers[table].append((entry_id, corrected, *values))

    def add_stored(self, record: asyncpg.Record) -> Entry | None:
        """Queue the rows of a stored event; if it corrects an entry of a type this model reads,
        return the corrected entry, for the caller to apply (``correct``) in order."""
        topic = record["topic"]
        if not self.model.reads(topic):
            return None
        at = EventAt(record["notification_id"], record["originator_id"], record["originator_version"])
        if topic != CORRECTION:
            self._add_all(*self.model.rows_from(topic, record["state"], at))
            return None
        # Decoded once, for the correction's own rows and for the entry it corrects.
        correction = decode_entry(topic, record["state"])
        self._add_all(correction.entry_id, self.model.rows(correction, at))
        return self._corrected(correction)

    def _add_all(self, entry_id: UUID, rows: Iterable[Row]) -> None:
        # Every row is built before any is queued: an entry that fails part-way leaves none behind
        # (a rebuild parks it and goes on with the same writer).
        for table, values in rows if isinstance(rows, list) else list(rows):
            self.buffers[table].append((entry_id, False, *values))

    def corrected_by(self, record: asyncpg.Record) -> Entry | None:
        """The corrected entry a stored correction carries, if this model reads its type."""
        return self._corrected(decode_entry(record["topic"], record["state"]))

    def _corrected(self, correction: Entry) -> Entry | None:
        corrected = correction.corrected if isinstance(correction, EntryCorrected) else None
        return corrected if corrected is not None and self.model.reads(type_name(type(corrected))) else None

    async def flush(self) -> None:
        """Write every queued row."""
        for table, records in self.buffers.items():
            if records:
                await self.conn.copy_records_to_table(
                    table, records=records, columns=self.columns[table], schema_name=self.schema
                )
                self.written[table].extend(records)
                records.clear()

    async def correct(self, corrected: Entry) -> None:
        """Replace the rows of a corrected entry (or run the model's own statements), in order."""
        await self.flush()
        self.corrected.append(corrected)
        if self.model.replace_on_correction:
            for table in self.columns:
                await self.conn.execute(
                    f"DELETE FROM {self.schema}.{table} WHERE entry_id = $1", corrected.entry_id
                )
            for row in self.model.rows(corrected, None):
                self.add(corrected.entry_id, row, corrected=True)
            await self.flush()
        for statement in self.model.on_correction(corrected, self.schema):
            await self.conn.execute(statement.sql, *statement.args)


async def apply_events(
    conn: asyncpg.Connection, model: ReadModel, schema: str, records: Sequence[asyncpg.Record]
) -> None:
    """Apply stored events to a model's tables in ``schema``, then derive the values that depend
    on other rows (a rebuild's bulk load does both its own way: see ``projections.bulk``)."""
    writer = BatchWriter(conn, schema, model)
    for record in records:
        if record["topic"] == ERASURE:
            await _reproject(conn, writer, record)
        if (corrected := writer.add_stored(record)) is not None:
            await writer.correct(corrected)
    await writer.flush()
    for statement in model.after_batch(schema, writer.written, writer.corrected):
        await conn.execute(statement.sql, *statement.args)


async def _reproject(conn: asyncpg.Connection, writer: BatchWriter, erasure: asyncpg.Record) -> None:
    """An erasure was carried out: the case's earlier entries, read again now their text reads as
    erased, replace every row they made, so no read model keeps the text (in the same transaction
    as the erasure's own rows and the model's position)."""
    await writer.flush()
    until = erasure["notification_id"] - 1
    case_id = erasure["originator_id"]
    # An entry this model parked would fail again and park the erasure with it: it made no rows.
    generation = generation_of(writer.schema)
    parked = {row["position"] for row in await conn.fetch(_PARKED, writer.model.name, case_id, generation)}
    earlier = [
        record
        for record in opened(await conn.fetch(_SELECT_CASE_UNTIL, case_id, until))
        if record["notification_id"] not in parked
    ]
    ids = [_ENTRY_ID.decode(record["state"]).entry_id for record in earlier]
    for table in writer.columns:
        await conn.execute(f"DELETE FROM {writer.schema}.{table} WHERE entry_id = ANY($1::uuid[])", ids)
    for record in earlier:
        if (corrected := writer.add_stored(record)) is not None:
            await writer.correct(corrected)
    await writer.flush()


class _EntryId(msgspec.Struct):
    entry_id: UUID


_ENTRY_ID = msgspec.json.Decoder(_EntryId)
