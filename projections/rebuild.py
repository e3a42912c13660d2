"""Rebuilding a projection into fresh tables while the live ones keep serving, then switching atomically.

A rebuild that is interrupted (even by SIGKILL) resumes from its last committed batch when run again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import asyncpg

from projections.bulk import Progress, bulk_load, finish_bulk_load
from projections.generations import create_generation, step
from projections.models.base import ReadModel
from projections.reporting import install_reporting
from projections.schema import generation_schema, install_views, key_of

__all__ = ["RebuildAlreadyRunning", "RebuildResult", "rebuild"]

log = logging.getLogger("waymark.rebuild")


class RebuildAlreadyRunning(RuntimeError):
    """Another process is rebuilding this projection."""


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild did: the generation now live, events applied in this run, and how long it took."""

    generation: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        """Events applied per second."""
        return self.events / self.seconds if self.seconds else 0.0


async def rebuild(
    dsn: str, model: ReadModel, *, batch_size: int = 2000, progress: Progress | None = None
) -> RebuildResult:
    """Build the model from the first event into a new generation, then make it the live one."""
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key_of(f"{model.name}:rebuild")):
            raise RebuildAlreadyRunning(model.name)
        started = time.perf_counter()
        generation = await _building_generation(conn, model)
        applied = await bulk_load(conn, model, generation, batch_size, progress)
        caught_up = time.perf_counter()
        await finish_bulk_load(dsn, conn, model, generation)
        finished = time.perf_counter()
        applied += await _switch(conn, model, generation, batch_size)
        log.info(
            "projection %s: caught up in %.1f s, finished the bulk load in %.1f s, switched in %.1f s",
            model.name,
            caught_up - started,
            finished - caught_up,
            time.perf_counter() - finished,
        )
        return RebuildResult(generation, applied, time.perf_counter() - started)
    finally:
        await conn.close()  # which also releases the rebuild lock


async def _building_generation(conn: asyncpg.Connection, model: ReadModel) -> int:
    """The generation being built: resumed if a previous rebuild was interrupted, else a new one."""
    existing = await conn.fetchval(
        "SELECT generation FROM read_meta.generations WHERE name = $1 AND status = 'building'", model.name
    )
    if existing is not None:
        log.info("projection %s: resuming rebuild of generation %s", model.name, existing)
        return int(existing)
    return await create_generation(conn, model, "building", with_indexes=False)


async def _switch(conn: asyncpg.Connection, model: ReadModel, generation: int, batch_size: int) -> int:
    """Make the built generation live in one transaction, with the events appended meanwhile."""
    applied = 0
    async with conn.transaction():
        # Locking the live row waits for the live projector's batch in flight and holds the next one.
        retired = await conn.fetchval(
            "SELECT generation FROM read_meta.generations WHERE name = $1 AND status = 'live' FOR UPDATE",
            model.name,
        )
        while (count := await step(conn, model, "building", batch_size)) > 0:
            applied += count
        await conn.execute(
            "UPDATE read_meta.generations SET status = 'retired', updated_at = now()"
            " WHERE name = $1 AND status = 'live'",
            model.name,
        )
        await conn.execute(
            "UPDATE read_meta.generations SET status = 'live', updated_at = now()"
            " WHERE name = $1 AND generation = $2",
            model.name,
            generation,
        )
        await install_views(conn, generation_schema(model.name, generation), model.published())
        await install_reporting(conn)
        # The new generation tried every event again: what it parked is what is parked now.
        await conn.execute(
            "DELETE FROM read_meta.parked_events WHERE name = $1 AND generation = $2", model.name, retired
        )
    if retired is not None:
        await conn.execute(f"DROP SCHEMA IF EXISTS {generation_schema(model.name, retired)} CASCADE")
    log.info("projection %s: generation %s is live", model.name, generation)
    return applied
