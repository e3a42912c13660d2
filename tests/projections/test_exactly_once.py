"""With four writers appending at once and the projector tailing live, every event is applied once."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import asyncpg
import pytest

from events.entries import ReviewRecorded
from events.values import OutcomeDomain, ReviewKind
from projections.projector import Projector
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.support.projections import meta, models, open_case

WRITERS, WRITES_EACH = 4, 150


def _write(records: CaseRecords, shared: UUID, writer: int) -> int:
    """One writer: its own case and one shared case, alternately, so writers also race on versions."""
    own = open_case(records)
    for i in range(WRITES_EACH):
        case_id = own if i % 2 else shared
        records.record(
            case_id,
            ReviewRecorded(
                **meta(case_id),
                kind=ReviewKind.ROUTINE,
                ratings={OutcomeDomain.STABILITY_SELF_MANAGEMENT: 1 + (i + writer) % 10},
                confidence=5,
                autonomy=5,
            ),
        )
    return WRITES_EACH


@pytest.mark.slow  # concurrent write load with a projector running
async def test_concurrent_writers_are_projected_exactly_once(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    shared = open_case(records)
    stop = asyncio.Event()
    projector = Projector(fresh_database.url, models(), batch_size=50, poll_seconds=0.2)
    running = asyncio.create_task(projector.run(stop))
    try:
        with ThreadPoolExecutor(WRITERS) as pool:
            written = await asyncio.gather(
                *(
                    asyncio.get_running_loop().run_in_executor(pool, _write, records, shared, w)
                    for w in range(WRITERS)
                )
            )
        head = records.recorder.max_notification_id()
        conn = await asyncpg.connect(fresh_database.url)
        try:
            for _ in range(200):
                positions = await conn.fetch(
                    "SELECT position FROM read_meta.generations WHERE status = 'live'"
                )
                if positions and all(row["position"] == head for row in positions):
                    break
                await asyncio.sleep(0.05)
            events = await conn.fetch("SELECT notification_id FROM case_records_events ORDER BY 1")
            audited = await conn.fetch("SELECT position, entry_id FROM read.audit_entries ORDER BY 1")
            ratings = await conn.fetchval("SELECT count(*) FROM read.ratings WHERE measure = 'confidence'")
            reviews = await conn.fetchval("SELECT count(*) FROM read.reviews")
        finally:
            await conn.close()
    finally:
        stop.set()
        await running
    assert sum(written) == WRITERS * WRITES_EACH
    assert [row["position"] for row in audited] == [row["notification_id"] for row in events]
    assert len({row["entry_id"] for row in audited}) == len(audited)
    assert ratings == reviews == WRITERS * WRITES_EACH
