"""Generations of a projection: creating one, stepping it forward one batch, switching it live."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import asyncpg

from projections import changes
from projections.batch import apply_events, read_events
from projections.models.base import ReadModel
from projections.parking import Parked, apply_or_park, park
from projections.reporting import install_reporting, make_pseudonym_key
from projections.schema import META_DDL, POSITIONS_CHANNEL, generation_schema, install_views, key_of

__all__ = ["create_generation", "ensure_live", "live_generation", "prepare", "prepare_read_side", "step"]


async def prepare(conn: asyncpg.Connection) -> None:
    """Create the read side's bookkeeping schema and the pseudonym key (idempotent)."""
    await conn.execute(META_DDL)
    await make_pseudonym_key(conn)


async def prepare_read_side(conn: asyncpg.Connection, models: Sequence[ReadModel]) -> None:
    """Bookkeeping, a live generation and views for every model, and the reporting views.

    Idempotent, and serialised between processes so concurrent start-ups do not race on DDL.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", key_of("setup"))
    try:
        await prepare(conn)
        for model in models:
            await ensure_live(conn, model)
        await install_reporting(conn)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", key_of("setup"))


async def create_generation(
    conn: asyncpg.Connection, model: ReadModel, status: str, *, with_indexes: bool = True
) -> int:
    """A new, empty generation of a model's tables, registered with the given status."""
    generation = await conn.fetchval(
        "SELECT coalesce(max(generation), 0) + 1 FROM read_meta.generations WHERE name = $1", model.name
    )
    schema = generation_schema(model.name, generation)
    async with conn.transaction():
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in model.tables:
            await conn.execute(table.create(schema))
            for statement in table.create_indexes(schema) if with_indexes else ():
                await conn.execute(statement)
        for statement in changes.tables(schema, model.name) if model.tracked else ():
            await conn.execute(statement)
        for statement in model.keep_changes(schema) if with_indexes else ():  # a bulk load: when done
            await conn.execute(statement)
        for summary in model.summaries:
            # Kept from the start when rows arrive one batch at a time; a bulk load fills it at the end.
            for statement in summary.create(schema) + (summary.keep(schema) if with_indexes else []):
                await conn.execute(statement)
        await conn.execute(
            "INSERT INTO read_meta.generations (name, generation, status, layout) VALUES ($1, $2, $3, $4)",
            model.name,
            generation,
            status,
            model.layout(),
        )
    return int(generation)


async def live_generation(conn: asyncpg.Connection, model: ReadModel) -> asyncpg.Record | None:
    """The live generation's number, position and layout, if there is one."""
    return await conn.fetchrow(
        "SELECT generation, position, layout FROM read_meta.generations WHERE name = $1 AND status = 'live'",
        model.name,
    )


async def ensure_live(conn: asyncpg.Connection, model: ReadModel) -> None:
    """Give a model a live generation (empty, at position 0) and its ``read`` views, if it has none."""
    live = await live_generation(conn, model)
    if live is None:
        generation = await create_generation(conn, model, "live")
        await install_views(conn, generation_schema(model.name, generation), model.published())
        return
    schema = generation_schema(model.name, live["generation"])
    logged, kept = await _change_tables_state(conn, model, schema) if model.tracked else (True, True)
    if not logged:
        # A generation from before change logs: empty ones let the reporting views install; its
        # layout differs, so the projector rebuilds it (filling them) before applying anything.
        for statement in changes.tables(schema, model.name):
            await conn.execute(statement)
        await install_views(conn, schema, model.published())
    elif not kept:
        await _store_entry_keys(conn, model, schema)


async def _change_tables_state(conn: asyncpg.Connection, model: ReadModel, schema: str) -> tuple[bool, bool]:
    """Whether a generation has its change log, and whether its versions keep every pseudonym (in a
    column that refuses nulls): one look at the catalogue per model and start-up."""
    log, versions = changes.change_tables(model.name)
    logged, kept = await conn.fetchval(
        "SELECT ARRAY[to_regclass($1) IS NOT NULL, coalesce((SELECT attnotnull FROM pg_attribute"
        " WHERE attrelid = to_regclass($2) AND attname = 'entry_key' AND NOT attisdropped), false)]",
        f"{schema}.{log}",
        f"{schema}.{versions}",
    )
    return bool(logged), bool(kept)


async def _store_entry_keys(conn: asyncpg.Connection, model: ReadModel, schema: str) -> None:
    """A generation from before versions kept their pseudonyms (or kept them in a column allowing
    nulls): the column, refusing nulls, triggers that fill it, and the pseudonyms of the versions it
    holds (once, at the first start-up after the upgrade)."""
    versions = changes.change_tables(model.name)[1]
    async with conn.transaction():
        await conn.execute(f"ALTER TABLE {schema}.{versions} ADD COLUMN IF NOT EXISTS entry_key text")
        for statement in model.keep_changes(schema):
            await conn.execute(statement)
        await conn.execute(changes.store_entry_keys(schema, model.name))
        await conn.execute(f"ALTER TABLE {schema}.{versions} ALTER COLUMN entry_key SET NOT NULL")
        await install_views(conn, schema, model.published())  # the read view shows the new column
    await conn.execute(f"ANALYZE {schema}.{versions}")  # every row rewritten: plan with the new sizes


async def step(conn: asyncpg.Connection, model: ReadModel, status: str, batch_size: int) -> int:
    """Apply the next batch to the model's generation with ``status``; return how many events.

    The generation row is locked for the batch, so the rows and the new position commit together
    (exactly once), and a switch to a rebuilt generation waits for the batch in flight. An event
    whose data the model cannot apply is parked in the same transaction, and the others still apply.
    """
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT generation, position FROM read_meta.generations"
            " WHERE name = $1 AND status = $2 FOR UPDATE",
            model.name,
            status,
        )
        if row is None:
            return 0
        records = await read_events(conn, row["position"], batch_size)
        if not records:
            return 0
        schema = generation_schema(model.name, row["generation"])
        last = records[-1]["notification_id"]
        await changes.mark_position(conn, last)  # the batch's changes are logged at its last position
        # Each event parked as it is found, in this transaction: see ``apply_or_park``.
        note = partial(_park_one, conn, model.name, row["generation"])
        await apply_or_park(conn, records, partial(apply_events, conn, model, schema), note)
        await conn.execute(
            "UPDATE read_meta.generations SET position = $3, updated_at = now(), stalled = NULL"
            " WHERE name = $1 AND generation = $2",
            model.name,
            row["generation"],
            last,
        )
        if status == "live":
            await conn.execute("SELECT pg_notify($1, $2)", POSITIONS_CHANNEL, f"{model.name}:{last}")
    return len(records)


async def _park_one(conn: asyncpg.Connection, name: str, generation: int, parked: Parked) -> None:
    await park(conn, name, generation, [parked])
