"""A corrected entry's values replace the original's in every projection, which still shows that a
correction was made; the audit trail keeps the original row, flagged, and lists the correction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from events.entries import EntryCorrected, EscalationRaised, ReviewRecorded
from events.values import OutcomeDomain, ReviewKind
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.support.projections import catch_up, meta, open_case

DOMAIN = OutcomeDomain.STABILITY_SELF_MANAGEMENT


async def test_a_correction_replaces_values_everywhere_and_is_visible(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    case_id = open_case(records)
    review = ReviewRecorded(
        **meta(case_id, days_ago=10),
        kind=ReviewKind.ROUTINE,
        ratings={DOMAIN: 3},
        confidence=4,
        autonomy=5,
    )
    escalation = EscalationRaised(
        **meta(case_id, days_ago=5),
        severity=2,
        trigger="t",
        response="r",
        escalation_plan_used_early=False,
    )
    records.record(case_id, review)
    records.record(case_id, escalation)
    await catch_up(fresh_database.url)  # the originals are projected first, then corrected
    review_fix = records.correct(
        case_id,
        EntryCorrected(
            **meta(case_id),
            corrects=review.entry_id,
            reason="wrong rating",
            changes={"ratings": {DOMAIN.value: 7}, "kind": "mdt"},
        ),
    )
    records.correct(
        case_id,
        EntryCorrected(
            **meta(case_id),
            corrects=escalation.entry_id,
            reason="severity misread",
            changes={"severity": 4, "occurred_at": (datetime.now(UTC) - timedelta(days=6)).isoformat()},
        ),
    )
    await catch_up(fresh_database.url)
    conn = await asyncpg.connect(fresh_database.url)
    try:
        rating = await conn.fetchrow(
            "SELECT value, corrected FROM read.ratings WHERE entry_id = $1 AND measure = $2",
            review.entry_id,
            DOMAIN.value,
        )
        care_review = await conn.fetchrow(
            "SELECT kind, corrected FROM read.reviews WHERE entry_id = $1", review.entry_id
        )
        severity = await conn.fetchrow(
            "SELECT severity, occurred_at, corrected FROM read.escalations WHERE entry_id = $1",
            escalation.entry_id,
        )
        audit = await conn.fetch(
            "SELECT entry_id, corrected, corrects, occurred_at FROM read.audit_entries"
            " WHERE case_id = $1 ORDER BY position",
            case_id,
        )
    finally:
        await conn.close()
    assert rating is not None
    assert care_review is not None
    assert severity is not None
    assert (rating["value"], rating["corrected"]) == (7, True)
    assert (care_review["kind"], care_review["corrected"]) == ("mdt", True)
    assert severity["severity"] == 4
    assert severity["corrected"] is True
    assert severity["occurred_at"] < escalation.occurred_at
    by_id = {row["entry_id"]: row for row in audit}
    assert len(audit) == 5  # opened, review, escalation and two corrections: the originals stay
    assert by_id[review.entry_id]["corrected"] is True
    assert by_id[review_fix.entry_id]["corrects"] == review.entry_id
    assert by_id[escalation.entry_id]["occurred_at"] == severity["occurred_at"]
