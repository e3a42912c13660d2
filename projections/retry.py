"""Applying parked events again, once a fixed Waymark can apply them (``waymark projections retry``).

A parked event is applied as if it had been applied in its place in the log: after it, the later
corrections of the same entry (applied meanwhile, without it) are applied again, so its rows end as
a projection in log order leaves them; then the derived values of its case are refreshed. Its rows
and its removal from the parked events commit together, under the live generation's lock (the live
projector's next batch waits): each parked event is applied exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from uuid import UUID

import asyncpg

from projections.batch import SELECT_AT_POSITIONS, SELECT_LATER_CORRECTIONS, BatchWriter, head_position
from projections.changes import mark_position
from projections.models.base import ReadModel
from projections.parking import Parked, apply_or_park, entry_id_of, park
from projections.schema import generation_schema
from projections.sealed import opened

__all__ = ["Retried", "retry_parked"]


@dataclass(frozen=True)
class Retried:
    """What a retry did for one projection: the positions now applied, and the events still parked."""

    name: str
    applied: list[int]
    parked: list[Parked]


async def retry_parked(conn: asyncpg.Connection, model: ReadModel) -> Retried:
    """Apply the live generation's parked events again, in log order; those that fail stay parked."""
    async with conn.transaction():
        live = await conn.fetchrow(
            "SELECT generation, position FROM read_meta.generations"
            " WHERE name = $1 AND status = 'live' FOR UPDATE",
            model.name,
        )
        if live is None:
            return Retried(model.name, [], [])
        generation = live["generation"]
        positions: list[int] = await conn.fetchval(
            "SELECT coalesce(array_agg(position ORDER BY position), '{}') FROM read_meta.parked_events"
            " WHERE name = $1 AND generation = $2",
            model.name,
            generation,
        )
        records = opened(await conn.fetch(SELECT_AT_POSITIONS, positions))
        schema = generation_schema(model.name, generation)
        # Late rows are logged as changes at the head of the log: past every position a reader can
        # have read up to, unless it is at the head already (see docs/operations.md).
        await mark_position(conn, await head_position(conn))
        late = partial(_apply_late, conn, model, schema, applied_up_to=live["position"], parked=positions)
        still = await apply_or_park(conn, records, late)
        failing = {p.position for p in still}
        applied = [position for position in positions if position not in failing]
        await conn.execute(
            "DELETE FROM read_meta.parked_events WHERE name = $1 AND generation = $2"
            " AND position = ANY($3::bigint[])",
            model.name,
            generation,
            applied,
        )
        await park(conn, model.name, generation, still)  # the error may have changed
    return Retried(model.name, applied, still)


async def _apply_late(
    conn: asyncpg.Connection,
    model: ReadModel,
    schema: str,
    records: Sequence[asyncpg.Record],
    *,
    applied_up_to: int,
    parked: list[int],
) -> None:
    """Apply parked events, each followed by the later corrections of its entry that are applied."""
    writer = BatchWriter(conn, schema, model)
    cases: set[UUID] = set()
    for record in records:
        corrected = writer.add_stored(record)
        if corrected is not None:
            await writer.correct(corrected)
        entry_id = corrected.entry_id if corrected is not None else entry_id_of(record)
        case_id, position = record["originator_id"], record["notification_id"]
        later_ones = await conn.fetch(SELECT_LATER_CORRECTIONS, case_id, position, applied_up_to, parked)
        for later in opened(later_ones):
            again = writer.corrected_by(later)
            if again is not None and again.entry_id == entry_id:
                await writer.correct(again)
        cases.add(case_id)
    await writer.flush()
    for statement in (
        *model.after_batch(schema, writer.written, writer.corrected),
        *model.after_retry(schema, cases),
    ):
        await conn.execute(statement.sql, *statement.args)
