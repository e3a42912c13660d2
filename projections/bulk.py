"""A rebuild's bulk load: the whole log applied to a fresh generation's tables, fast.

- The tables have no indexes while they load: keeping a random-UUID ``entry_id`` index up to date
  doubled the time spent writing rows. So a correction, which finds the rows it replaces by
  ``entry_id``, is only noted (with the batch) and applied once the index exists. Rows belong to
  one entry each, so corrections applied later, in log order, end in the same rows.
- Values derived from other rows are filled once at the end (``ReadModel.derive_all``).
- Each batch's rows, notes and position commit together, so an interrupted load resumes after its
  last committed batch; the next batch's rows are built while PostgreSQL writes the last one,
  keeping both cores busy.
- An event that cannot be applied is parked, as the live projector parks it (``projections.parking``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg

from projections import changes
from projections.batch import SELECT_AT_POSITIONS, BatchWriter, head_position, read_events
from projections.models.base import ReadModel, Statement
from projections.parking import Parked, apply_or_park, is_event_fault, park
from projections.schema import Table, generation_schema
from projections.sealed import opened
from projections.summaries import Summary

__all__ = ["Progress", "bulk_load", "finish_bulk_load"]

log = logging.getLogger("waymark.rebuild")

Progress = Callable[[int, int, int], None]
"""Called after each batch with (position, head, events applied so far)."""

BULK_MEMORY = "256MB"
"""work_mem and maintenance_work_mem for the steps after a bulk load: one session doing bulk work
sorts and hashes in memory (deriving the care model's values took 7.3 s with the default 4 MB)."""

Job = Callable[[asyncpg.Connection], Awaitable[None]]
"""A piece of the finishing work, run on whichever connection is free."""

_YIELD_EVERY = 64
"""Events between chances for the previous batch's write to move on while rows are built."""


_EPOCH, _MICROSECOND = datetime(2000, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
_EARLIEST, _LATEST = (
    (limit.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND for limit in (datetime.min, datetime.max)
)


def _microseconds(at: datetime) -> tuple[int]:
    """timestamptz as PostgreSQL's own microseconds since 2000: COPY encodes each time in a third of
    the time asyncpg's datetime codec takes (a million-event load writes about two million times).
    A time that is not a datetime in UTC (year 1 at +14:00) is refused, as the live projector's
    codec refuses it: read back, it could not be decoded."""
    value = (at - _EPOCH) // _MICROSECOND
    if not _EARLIEST <= value <= _LATEST:
        raise OverflowError("date value out of range")
    return (value,)


_MICROSECONDS: dict[str, Callable[[Any], Any]] = {
    "encoder": _microseconds,
    "decoder": lambda value: _EPOCH + value[0] * _MICROSECOND,
}


@dataclass
class _Batch:
    writer: BatchWriter
    records: list[asyncpg.Record]
    corrections: list[int] = field(default_factory=list)
    parked: list[Parked] = field(default_factory=list)

    @property
    def last(self) -> int:
        return int(self.records[-1]["notification_id"])


async def bulk_load(
    conn: asyncpg.Connection,
    model: ReadModel,
    generation: int,
    batch_size: int,
    progress: Progress | None = None,
) -> int:
    """Load a generation from its position to the head of the log; return the events applied."""
    position = await conn.fetchval(
        "SELECT position FROM read_meta.generations WHERE name = $1 AND generation = $2",
        model.name,
        generation,
    )
    schema = generation_schema(model.name, generation)
    head, applied = await head_position(conn), 0
    await conn.set_type_codec("timestamptz", schema="pg_catalog", format="tuple", **_MICROSECONDS)
    try:
        pending = await _build(conn, schema, model, await read_events(conn, position, batch_size))
        while pending is not None:
            upcoming = await read_events(conn, pending.last, batch_size)
            writing = asyncio.ensure_future(_write(conn, model, generation, pending))
            try:
                following = await _build(conn, schema, model, upcoming)
            finally:
                await writing
            applied += len(pending.records)
            if progress is not None:
                progress(pending.last, max(head, pending.last), applied)
            pending = following
    finally:
        await conn.reset_type_codec("timestamptz", schema="pg_catalog")
    return applied


async def _build(
    conn: asyncpg.Connection, schema: str, model: ReadModel, records: list[asyncpg.Record]
) -> _Batch | None:
    """A batch's rows, the positions of the corrections in it, and the events that cannot be read."""
    if not records:
        return None
    batch = _Batch(BatchWriter(conn, schema, model), records)
    for i, record in enumerate(records, 1):
        try:
            if batch.writer.add_stored(record) is not None:
                batch.corrections.append(record["notification_id"])
        except Exception as error:
            if not is_event_fault(error):
                raise
            batch.parked.append(Parked.of(record, error))
        if i % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
    return batch


async def _write(conn: asyncpg.Connection, model: ReadModel, generation: int, batch: _Batch) -> None:
    async with conn.transaction():
        # Losing the last batches to a server crash is safe here: rows and position go together,
        # and the load resumes from the position that survived. Not waiting for the WAL flush at
        # each commit is measured at 1.3 s of a million-event load.
        await conn.execute("SET LOCAL synchronous_commit = off")
        parked = [*batch.parked, *await _flush_or_park(conn, model, batch)]
        skipped = {p.position for p in parked}
        if corrections := [position for position in batch.corrections if position not in skipped]:
            await conn.executemany(
                "INSERT INTO read_meta.deferred_corrections (schema_name, position) VALUES ($1, $2)",
                [(batch.writer.schema, position) for position in corrections],
            )
        await park(conn, model.name, generation, parked)
        await conn.execute(
            "UPDATE read_meta.generations SET position = $3, updated_at = now()"
            " WHERE name = $1 AND generation = $2",
            model.name,
            generation,
            batch.last,
        )


async def _flush_or_park(conn: asyncpg.Connection, model: ReadModel, batch: _Batch) -> list[Parked]:
    """Write the batch's rows; if an event's values cannot be written (COPY fails), write them again
    from the events, by halves, and return the events that fail alone."""
    try:
        async with conn.transaction():
            await batch.writer.flush()
    except Exception as error:
        if not is_event_fault(error):
            raise
    else:
        return []
    unread = {p.position for p in batch.parked}
    records = [record for record in batch.records if record["notification_id"] not in unread]
    return await apply_or_park(conn, records, partial(_load, conn, batch.writer.schema, model))


async def _load(
    conn: asyncpg.Connection, schema: str, model: ReadModel, records: Sequence[asyncpg.Record]
) -> None:
    writer = BatchWriter(conn, schema, model)
    for record in records:
        writer.add_stored(record)  # corrections are noted by the caller
    await writer.flush()


async def finish_bulk_load(dsn: str, conn: asyncpg.Connection, model: ReadModel, generation: int) -> None:
    """Apply the load's corrections, fill derived values, index, gather statistics. After the
    corrections the work is shared between ``conn`` and a second connection: it is all PostgreSQL's,
    and one statement at a time leaves the second core idle."""
    schema = generation_schema(model.name, generation)
    started = time.perf_counter()
    log.info("projection %s: loaded; deriving values, indexing, gathering statistics", model.name)
    async with conn.transaction():
        corrections, parked = await _apply_deferred_corrections(conn, model, schema)
        await park(conn, model.name, generation, parked)
    helper = await asyncpg.connect(dsn)
    try:
        # After the corrections: derived values read the corrected rows.
        await _share((conn, helper), [partial(_derive, group) for group in model.derive_all(schema)])
        derived_at = time.perf_counter()
        tables = await _largest_first(conn, schema, model)
        await _share((conn, helper), [partial(_index, schema, table) for table in tables])
        await _share((conn, helper), [partial(_summarise, schema, summary) for summary in model.summaries])
        await _track_changes(conn, model, generation)
    finally:
        await helper.close()
    log.info(
        "projection %s: %d corrections applied and values derived in %.1f s, indexed in %.1f s",
        model.name,
        corrections,
        derived_at - started,
        time.perf_counter() - derived_at,
    )


async def _share(conns: Sequence[asyncpg.Connection], jobs: list[Job]) -> None:
    """Run the jobs on the connections, each connection taking the next job when it is free."""
    queue = iter(jobs)

    async def work(conn: asyncpg.Connection) -> None:
        for job in queue:
            await job(conn)

    async with asyncio.TaskGroup() as group:  # a failure cancels the other connection's job
        for conn in conns:
            group.create_task(work(conn))


async def _derive(statements: list[Statement], conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        await conn.execute(f"SET LOCAL work_mem = '{BULK_MEMORY}'")
        for statement in statements:
            await conn.execute(statement.sql, *statement.args)


async def _index(schema: str, table: Table, conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        await conn.execute(f"SET LOCAL maintenance_work_mem = '{BULK_MEMORY}'")
        for statement in table.create_indexes(schema):  # IF NOT EXISTS: derive_all may swap tables
            await conn.execute(statement)
    # Fresh tables have no statistics (without them the planner picks plans hundreds of times
    # slower) and no visibility map (without it no index-only scans); derived values also left
    # dead row versions behind.
    await conn.execute(f"VACUUM ANALYZE {schema}.{table.name}")


async def _summarise(schema: str, summary: Summary, conn: asyncpg.Connection) -> None:
    """Count the loaded rows and keep counting from here on (the source table is final now)."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL work_mem = '{BULK_MEMORY}'")
        for statement in summary.create(schema) + summary.fill(schema) + summary.keep(schema):
            await conn.execute(statement)
    await conn.execute(f"VACUUM ANALYZE {schema}.{summary.name}")


async def _track_changes(conn: asyncpg.Connection, model: ReadModel, generation: int) -> None:
    """Date every loaded row from the load's position, and log changes from here on."""
    if not model.tracked:
        return
    schema = generation_schema(model.name, generation)
    async with conn.transaction():
        position = await conn.fetchval(
            "SELECT position FROM read_meta.generations WHERE name = $1 AND generation = $2",
            model.name,
            generation,
        )
        filled = changes.fill(schema, model.name, model.tracked, int(position))
        for statement in filled + model.keep_changes(schema):
            await conn.execute(statement)


async def _largest_first(conn: asyncpg.Connection, schema: str, model: ReadModel) -> list[Table]:
    """The model's tables, largest first, so neither connection is left with a big one at the end."""
    rows = await conn.fetch(
        "SELECT c.relname, pg_relation_size(c.oid) AS size FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
        schema,
    )
    sizes: dict[str, int] = {row["relname"]: row["size"] for row in rows}
    return sorted(model.tables, key=lambda table: -sizes.get(table.name, 0))


async def _apply_deferred_corrections(
    conn: asyncpg.Connection, model: ReadModel, schema: str
) -> tuple[int, list[Parked]]:
    """Apply the noted corrections in log order. The notes are removed in the same transaction, so
    an interrupted rebuild applies each exactly once. A correction that cannot be applied is parked,
    and its own rows (written with its batch) are removed: a parked event leaves nothing behind."""
    positions = await conn.fetchval(
        "WITH done AS (DELETE FROM read_meta.deferred_corrections WHERE schema_name = $1 RETURNING position)"
        " SELECT coalesce(array_agg(position), '{}') FROM done",
        schema,
    )
    if not positions:
        return 0, []
    for table in model.tables:  # corrections find the rows they replace by entry_id
        await conn.execute(table.create_indexes(schema)[0])
    records = opened(await conn.fetch(SELECT_AT_POSITIONS, list(positions)))
    parked = await apply_or_park(conn, records, partial(_correct, conn, schema, model))
    for entry_id in {p.entry_id for p in parked} - {None}:
        for table in model.tables:
            await conn.execute(f"DELETE FROM {schema}.{table.name} WHERE entry_id = $1", entry_id)
    return len(positions), parked


async def _correct(
    conn: asyncpg.Connection, schema: str, model: ReadModel, records: Sequence[asyncpg.Record]
) -> None:
    writer = BatchWriter(conn, schema, model)
    for record in records:
        if (corrected := writer.corrected_by(record)) is not None:
            await writer.correct(corrected)
