"""A rebuild's bulk load: the whole log applied to a fresh generation's tables, fast.

- The tables have no indexes while they load: keeping a random-UUID ``entry_id`` index up to date
  doubled the time spent writing rows. So a correction, which finds the rows it replaces by
  ``entry_id``, is only noted (with the batch) and applied once the index exists. Rows belong to
  one entry each, so corrections applied later, in log order, end in the same rows.
- Values derived from other rows are filled once at the end (``ReadModel.derive_all``).
- Each batch's rows, notes and position commit together, so an interrupted load resumes after its
  last committed batch; the next batch's rows are built while PostgreSQL writes the last one,
  keeping both cores busy.
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

from projections.batch import SELECT_AT_POSITIONS, BatchWriter, head_position, read_events
from projections.models.base import ReadModel, Statement
from projections.schema import Table, generation_schema

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
_MICROSECONDS: dict[str, Callable[[Any], Any]] = {
    "encoder": lambda at: ((at - _EPOCH) // _MICROSECOND,),
    "decoder": lambda value: _EPOCH + value[0] * _MICROSECOND,
}
"""timestamptz as PostgreSQL's own microseconds since 2000: COPY encodes each time in a third of
the time asyncpg's datetime codec takes (a million-event load writes about two million times)."""


@dataclass
class _Batch:
    writer: BatchWriter
    last: int
    events: int
    corrections: list[int] = field(default_factory=list)


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
            applied += pending.events
            if progress is not None:
                progress(pending.last, max(head, pending.last), applied)
            pending = following
    finally:
        await conn.reset_type_codec("timestamptz", schema="pg_catalog")
    return applied


async def _build(
    conn: asyncpg.Connection, schema: str, model: ReadModel, records: list[asyncpg.Record]
) -> _Batch | None:
    """A batch's rows, and the positions of the corrections in it."""
    if not records:
        return None
    batch = _Batch(BatchWriter(conn, schema, model), records[-1]["notification_id"], len(records))
    for i, record in enumerate(records, 1):
        if batch.writer.add_stored(record) is not None:
            batch.corrections.append(record["notification_id"])
        if i % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
    return batch


async def _write(conn: asyncpg.Connection, model: ReadModel, generation: int, batch: _Batch) -> None:
    async with conn.transaction():
        # Losing the last batches to a server crash is safe here: rows and position go together,
        # and the load resumes from the position that survived. Not waiting for the WAL flush at
        # each commit is measured at 1.3 s of a million-event load.
        await conn.execute("SET LOCAL synchronous_commit = off")
        await batch.writer.flush()
        if batch.corrections:
            await conn.executemany(
                "INSERT INTO read_meta.deferred_corrections (schema_name, position) VALUES ($1, $2)",
                [(batch.writer.schema, position) for position in batch.corrections],
            )
        await conn.execute(
            "UPDATE read_meta.generations SET position = $3, updated_at = now()"
            " WHERE name = $1 AND generation = $2",
            model.name,
            generation,
            batch.last,
        )


async def finish_bulk_load(dsn: str, conn: asyncpg.Connection, model: ReadModel, generation: int) -> None:
    """Apply the load's corrections, fill derived values, index, gather statistics. After the
    corrections the work is shared between ``conn`` and a second connection: it is all PostgreSQL's,
    and one statement at a time leaves the second core idle."""
    schema = generation_schema(model.name, generation)
    started = time.perf_counter()
    log.info("projection %s: loaded; deriving values, indexing, gathering statistics", model.name)
    async with conn.transaction():
        corrections = await _apply_deferred_corrections(conn, model, schema)
    helper = await asyncpg.connect(dsn)
    try:
        # After the corrections: derived values read the corrected rows.
        await _share((conn, helper), [partial(_derive, group) for group in model.derive_all(schema)])
        derived_at = time.perf_counter()
        tables = await _largest_first(conn, schema, model)
        await _share((conn, helper), [partial(_index, schema, table) for table in tables])
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


async def _largest_first(conn: asyncpg.Connection, schema: str, model: ReadModel) -> list[Table]:
    """The model's tables, largest first, so neither connection is left with a big one at the end."""
    rows = await conn.fetch(
        "SELECT c.relname, pg_relation_size(c.oid) AS size FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
        schema,
    )
    sizes: dict[str, int] = {row["relname"]: row["size"] for row in rows}
    return sorted(model.tables, key=lambda table: -sizes.get(table.name, 0))


async def _apply_deferred_corrections(conn: asyncpg.Connection, model: ReadModel, schema: str) -> int:
    """Apply the noted corrections in log order. The notes are removed in the same transaction, so
    an interrupted rebuild applies each exactly once."""
    positions = await conn.fetchval(
        "WITH done AS (DELETE FROM read_meta.deferred_corrections WHERE schema_name = $1 RETURNING position)"
        " SELECT coalesce(array_agg(position), '{}') FROM done",
        schema,
    )
    if not positions:
        return 0
    for table in model.tables:  # corrections find the rows they replace by entry_id
        await conn.execute(table.create_indexes(schema)[0])
    writer = BatchWriter(conn, schema, model)
    for record in await conn.fetch(SELECT_AT_POSITIONS, list(positions)):
        if (corrected := writer.corrected_by(record)) is not None:
            await writer.correct(corrected)
    return len(positions)
