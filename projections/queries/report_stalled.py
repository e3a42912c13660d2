"""What delivery did when outcomes stalled: people whose first and latest readings of an instrument in
the period showed no reliable change or reliable deterioration, and whether a plan change or a "no
change, because ..." confirmation followed the reading that showed it, and how fast."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.queries.outcome_change import classify
from projections.statistics import ChangeCategory

__all__ = ["StalledCounts", "stalled_people", "what_followed"]

_STALLED = (ChangeCategory.NO_RELIABLE_CHANGE, ChangeCategory.RELIABLY_DETERIORATED)


class StalledCounts(msgspec.Struct, frozen=True):
    """People whose outcome stalled, by what followed: a plan change, only a confirmation, or nothing
    yet; with the median days from the reading that showed it to the first decision."""

    people: int
    plan_changed: int
    plan_confirmed_only: int
    no_decision_yet: int
    median_days_to_first_decision: float | None


def stalled_people(rows: Sequence[asyncpg.Record]) -> dict[UUID, datetime]:
    """Each person whose outcome stalled on some instrument (rows of ``IMPROVEMENT``), with the
    earliest latest reading that showed it."""
    stalled: dict[UUID, datetime] = {}
    for r in rows:
        if classify(r) in _STALLED:
            seen = stalled.get(r["case_id"])
            stalled[r["case_id"]] = r["latest_at"] if seen is None else min(seen, r["latest_at"])
    return stalled


# Two index probes a person (the first decision since, and whether any since was a plan change),
# where joining every later decision read all of them: most people have many.
_FOLLOWED = """
SELECT s.case_id, coalesce(changed.yes, false) AS changed, (first.at IS NOT NULL)::int AS decisions,
       date_part('epoch', first.at - s.at) / 86400 AS days
FROM unnest($1::uuid[], $2::timestamptz[]) AS s(case_id, at)
LEFT JOIN LATERAL (SELECT d.occurred_at AS at FROM read.decisions d
                    WHERE d.case_id = s.case_id AND d.occurred_at >= s.at
                    ORDER BY d.occurred_at LIMIT 1) first ON true
LEFT JOIN LATERAL (SELECT true AS yes FROM read.decisions d
                    WHERE d.case_id = s.case_id AND d.occurred_at >= s.at AND d.kind = 'plan_changed'
                    LIMIT 1) changed ON true
"""


async def what_followed(pool: asyncpg.Pool, stalled: dict[UUID, datetime]) -> StalledCounts:
    """The decisions recorded since each stall (up to now)."""
    rows = await pool.fetch(_FOLLOWED, list(stalled), list(stalled.values()))
    changed = sum(1 for r in rows if r["changed"])
    decided = [r for r in rows if r["decisions"]]
    days = [float(r["days"]) for r in decided]
    return StalledCounts(
        people=len(rows),
        plan_changed=changed,
        plan_confirmed_only=len(decided) - changed,
        no_decision_yet=len(rows) - len(decided),
        median_days_to_first_decision=round(statistics.median(days), 1) if days else None,
    )
