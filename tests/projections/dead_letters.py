"""Helpers for the tests of parked events: entries the read side cannot apply, appended by hand,
and the live projector run until it is current."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg

from events.entries import ReviewRecorded
from events.values import OutcomeDomain, ReviewKind
from projections.models import MODELS
from projections.projector import Projector
from service.write.application import CaseRecords
from tests.support.projections import meta, models

YEAR_ONE = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
"""A time Python holds but cannot convert to UTC: writing it fails inside COPY."""

Parked = tuple[str, int, uuid.UUID, uuid.UUID | None, str]
"""A parked event as read.unprojected_entries shows it: projection, position, case, entry, error."""


def head(records: CaseRecords) -> int:
    """The position of the last event in the log."""
    return records.recorder.max_notification_id() or 0


def review(
    case_id: uuid.UUID, *, kind: ReviewKind = ReviewKind.ROUTINE, days_ago: float = 0.0, **fields: object
) -> ReviewRecorded:
    """A review of a case, ``days_ago``; ``fields`` replace any of the fields every entry carries."""
    values: dict[str, object] = {**meta(case_id, days_ago=days_ago), **fields}
    return ReviewRecorded(
        **values,  # type: ignore[arg-type]
        kind=kind,
        ratings={OutcomeDomain.STABILITY_SELF_MANAGEMENT: 4},
        confidence=4,
        autonomy=4,
    )


async def insert_event(dsn: str, case_id: uuid.UUID, topic: str, state: bytes) -> int:
    """Append an entry's stored form to a case by hand, past every check; return its position."""
    conn = await asyncpg.connect(dsn)
    try:
        position: int = await conn.fetchval(
            "INSERT INTO case_records_events (originator_id, originator_version, topic, state)"
            " SELECT $1, max(originator_version) + 1, $2, $3 FROM case_records_events"
            " WHERE originator_id = $1 RETURNING notification_id",
            case_id,
            topic,
            state,
        )
    finally:
        await conn.close()
    return position


async def run_until_current(dsn: str, head: int) -> None:
    """Run the live projector until every projection has reached ``head``."""
    stop = asyncio.Event()
    projector = Projector(dsn, models(), retry_seconds=0.05, poll_seconds=0.1)
    await projector.setup()
    running = asyncio.create_task(projector.run(stop))
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(400):
            rows = await conn.fetch("SELECT name, position FROM read_meta.generations WHERE status = 'live'")
            positions = {row["name"]: row["position"] for row in rows}
            if positions == dict.fromkeys(MODELS, head):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the projections did not reach {head}: {positions}")
    finally:
        await conn.close()
        stop.set()
        await running


async def parked(dsn: str) -> set[Parked]:
    """The live projections' parked events."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT projection, position, case_id, entry_id, error FROM read.unprojected_entries"
        )
    finally:
        await conn.close()
    return {(r["projection"], r["position"], r["case_id"], r["entry_id"], r["error"]) for r in rows}
