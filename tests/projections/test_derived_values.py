"""Values the care model derives from other rows come out the same whether the live projector
derives them batch by batch or a rebuild derives them all at once after its bulk load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from events.entries import PlanChanged, ReviewRecorded
from events.values import OutcomeDomain, ReviewKind
from projections.models import MODELS
from projections.rebuild import rebuild
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.support.projections import catch_up, meta, open_case

_DAYS_90, _TICK = timedelta(days=90), timedelta(microseconds=1)
_DOMAIN = OutcomeDomain.STABILITY_SELF_MANAGEMENT


def _review(case_id: UUID, when: datetime, rating: int) -> ReviewRecorded:
    fields = meta(case_id) | {"occurred_at": when}
    return ReviewRecorded(
        **fields, kind=ReviewKind.ROUTINE, ratings={_DOMAIN: rating}, confidence=5, autonomy=5
    )


async def _around(dsn: str) -> list[tuple[float | None, float | None]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT before, after FROM read.strategy_introductions ORDER BY strategy")
        return [(row["before"], row["after"]) for row in rows]
    finally:
        await conn.close()


async def test_ratings_around_a_strategy_count_from_90_days_before_up_to_90_days_after(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    case_id = open_case(records, days_ago=400)
    changed = datetime.now(UTC).replace(microsecond=500_000) - timedelta(days=200)
    # [changed - 90 days, changed) is before and [changed, changed + 90 days) after, to the microsecond.
    for when, rating in (
        (changed - _DAYS_90 - _TICK, 9),  # too early
        (changed - _DAYS_90, 2),
        (changed - _TICK, 4),
        (changed, 6),
        (changed + _DAYS_90 - _TICK, 8),
        (changed + _DAYS_90, 1),  # too late
    ):
        records.record(case_id, _review(case_id, when, rating))
    plan = meta(case_id) | {"occurred_at": changed}
    records.record(
        case_id,
        PlanChanged(**plan, rationale="try it", strategies_added=("walking group", "peer support")),
    )
    await catch_up(fresh_database.url)
    assert await _around(fresh_database.url) == [(3.0, 7.0), (3.0, 7.0)]
    await rebuild(fresh_database.url, MODELS["care"]())
    assert await _around(fresh_database.url) == [(3.0, 7.0), (3.0, 7.0)]
