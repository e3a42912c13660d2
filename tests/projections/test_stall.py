"""An event a projection cannot apply stalls that projection at its position (nothing is skipped),
says why in read_meta.generations, and leaves the other projections running."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from events.entries import ReviewRecorded
from events.values import OutcomeDomain, ReviewKind
from projections.projector import Projector
from service.application import CaseRecords
from service.database import DatabaseAddress
from tests.projections.conftest import meta, models, open_case


async def test_a_bad_event_stalls_only_the_projection_that_cannot_apply_it(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    case_id = open_case(records)
    conn = await asyncpg.connect(fresh_database.url)
    try:
        poison = await conn.fetchval(
            "INSERT INTO case_records_events (originator_id, originator_version, topic, state)"
            " VALUES ($1, 1, 'weather_recorded', $2) RETURNING notification_id",
            uuid.uuid4(),
            b'{"sky": "grey"}',
        )
        records.record(
            case_id,
            ReviewRecorded(
                **meta(case_id),
                kind=ReviewKind.ROUTINE,
                ratings={OutcomeDomain.STABILITY_SELF_MANAGEMENT: 4},
                confidence=4,
                autonomy=4,
            ),
        )
        head = records.recorder.max_notification_id()
        stop = asyncio.Event()
        running = asyncio.create_task(Projector(fresh_database.url, models(), retry_seconds=0.05).run(stop))
        await asyncio.sleep(2)
        stop.set()
        await running
        rows = await conn.fetch(
            "SELECT name, position, stalled FROM read_meta.generations WHERE status = 'live'"
        )
    finally:
        await conn.close()
    state = {row["name"]: (row["position"], row["stalled"]) for row in rows}
    assert state["audit"] == (poison - 1, "ValidationError")
    assert state["care"] == (head, None)
    assert state["trajectory"] == (head, None)
