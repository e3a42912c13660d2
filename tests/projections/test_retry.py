"""``retry`` applies parked events once a fixed read side can apply them: in log order, each once,
and in their place, so the projection ends as a clean rebuild leaves it (later corrections of a
parked entry, and values derived from other rows of its case, included)."""

from __future__ import annotations

import asyncpg
import pytest

from events.entries import EntryCorrected, PlanChanged
from events.values import ReviewKind
from projections.models import CareDelivery
from projections.rebuild import rebuild
from projections.retry import Retried, retry_parked
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.projections.dead_letters import head, parked, review
from tests.support.projections import catch_up, fingerprints, meta, open_case

BUGS = {"cases": "CHECK (service <> 'east')", "reviews": "CHECK (kind <> 'mdt')"}
"""Constraints standing in for a read side with a bug: it cannot store cases in the east or MDT
reviews. Dropping them is the fix."""


async def _retry(dsn: str) -> Retried:
    conn = await asyncpg.connect(dsn)
    try:
        return await retry_parked(conn, CareDelivery())
    finally:
        await conn.close()


async def _care_schema(dsn: str, statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        generation = await conn.fetchval("SELECT generation FROM read_meta.generations WHERE name = 'care'")
        await conn.execute(statements.format(schema=f"read_care_g{generation}"))
    finally:
        await conn.close()


def _history(records: CaseRecords) -> tuple[int, int]:
    """An opening the care model cannot store, with a review after it; an MDT review it cannot store,
    a plan change naming it, and its correction (to a formal review, which it can store). Returns
    the positions of the two entries care will park."""
    east = open_case(records, service="east", days_ago=200)
    opening = head(records)
    records.record(east, review(east, days_ago=100))
    north = open_case(records, days_ago=200)
    mdt = review(north, kind=ReviewKind.MDT, days_ago=50)
    mdt_at = records.record(north, mdt).position
    records.record(
        north,
        PlanChanged(
            **meta(north, days_ago=40),
            rationale="more support after the review",
            because_of=(mdt.entry_id,),
            strategies_added=("walking group",),
        ),
    )
    records.correct(
        north,
        EntryCorrected(
            **meta(north),
            corrects=mdt.entry_id,
            reason="it was a formal review",
            changes={"kind": "formal"},
        ),
    )
    records.record(north, review(north, days_ago=10))
    assert mdt_at is not None
    return opening, mdt_at


@pytest.mark.slow  # parks, mends and retries on a database of its own: about 1.2 s
async def test_retry_applies_parked_events_in_their_place_once_they_can_be_applied(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    dsn = fresh_database.url
    await catch_up(dsn)  # the live generation, empty
    await _care_schema(
        dsn, "; ".join(f"ALTER TABLE {{schema}}.{t} ADD CONSTRAINT bug {c}" for t, c in BUGS.items())
    )
    opening, mdt = _history(records)
    await catch_up(dsn)
    assert {(p[0], p[1], p[4]) for p in await parked(dsn)} == {
        ("care", opening, "CheckViolationError"),
        ("care", mdt, "CheckViolationError"),
    }

    not_yet = await _retry(dsn)
    assert (not_yet.applied, [p.position for p in not_yet.parked]) == ([], [opening, mdt])

    await _care_schema(dsn, "; ".join(f"ALTER TABLE {{schema}}.{t} DROP CONSTRAINT bug" for t in BUGS))
    fixed = await _retry(dsn)
    assert (fixed.applied, fixed.parked) == ([opening, mdt], [])
    again = await _retry(dsn)
    assert (again.applied, again.parked) == ([], [])
    assert await parked(dsn) == set()

    retried = await fingerprints(dsn)
    await rebuild(dsn, CareDelivery())
    assert await fingerprints(dsn) == retried
