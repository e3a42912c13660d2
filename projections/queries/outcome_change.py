"""Each person's change on an outcome measure over a period: from their first to their latest reading
of each instrument, reliable or not by the instrument's published threshold, and recovered where
known to have left the clinical range. Service learning counts these per instrument (``CHANGES``);
the commissioner report per instrument and per outcome domain, person by person
(``first_and_latest``). Of two readings at one moment, the one with the lower entry id came first."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import msgspec

from projections.models.trajectory import EARLIER_KEPT
from projections.queries import in_period
from projections.statistics import ChangeCategory, change_category

__all__ = [
    "CHANGES",
    "IMPROVEMENT",
    "ImprovementShare",
    "category_of",
    "classify",
    "first_and_latest",
    "improvement_shares",
]


class ImprovementShare(msgspec.Struct, frozen=True):
    """Of people with two or more readings of an instrument in the period, how many reliably improved."""

    instrument: str
    people: int
    recovered: int
    reliably_improved: int
    no_reliable_change: int
    reliably_deteriorated: int
    share_reliably_improved: float | None


def first_and_latest(by: str = "", where: str = "") -> str:
    """Each person's first and latest reading of each instrument in the period (per ``by``, more
    columns of ``m`` to tell readings apart, such as the domain), with how many readings. A
    service's readings are one range of an index on their derived service (the trajectory model).
    Ordered latest first, the latest row carries its own values and the window's one sort serves
    DISTINCT ON too: in time order with a whole-partition frame it sorted twice (a fifth slower)."""
    keys = f"m.case_id, {by}m.instrument"
    return f"""
SELECT DISTINCT ON ({keys}) {keys},
    last_value(m.score) OVER w AS baseline, last_value(m.clinical_range) OVER w AS clinical_at_baseline,
    m.score AS latest, m.clinical_range AS clinical_at_latest, m.reliable_change, m.higher_is_better,
    count(*) OVER w AS n, m.occurred_at AS latest_at
FROM read.measures m
WHERE {in_period("m")}{where}
WINDOW w AS (PARTITION BY {keys} ORDER BY m.occurred_at DESC, m.entry_id DESC
             ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
ORDER BY {keys}, m.occurred_at DESC, m.entry_id DESC
"""


IMPROVEMENT = first_and_latest()
"""Per person and instrument (see ``first_and_latest``)."""

# A person's latest reading in the period is the one whose next is after it (the trajectory model
# keeps the link; an index on the service and the next reading's time finds them, about half the
# period's readings when it ends now), and it carries their earlier readings: the period's first is
# the earliest of those at or after its start (width_bucket counts those before: a binary search,
# timestamps being whole microseconds), and they have two or more readings in the period when there
# is one. A reading keeps only its latest EARLIER_KEPT earlier ones: when the period holds all of
# those and there were more, the first is looked up, in a second part that reads only such readings
# (a partial index); the rest group on plain expressions, which PostgreSQL hashes. Only the distinct
# pairs of readings cross to Python, counted (a pair may come from both parts: the counts add up).
_FIRST = "width_bucket($1::timestamptz - interval '1 microsecond', m.earlier_at) + 1"
_BEYOND_KEPT = f"m.earlier_count > {EARLIER_KEPT} AND {_FIRST} = 1"
_LATEST = f"{in_period('m')} AND coalesce(m.next_at, 'infinity') >= $2"
_PAIRS = "m.score AS latest, m.clinical_range AS clinical_at_latest, m.reliable_change, m.higher_is_better"
CHANGES = f"""
SELECT m.instrument, m.earlier_score[{_FIRST}] AS baseline,
       m.earlier_clinical[{_FIRST}] AS clinical_at_baseline, {_PAIRS}, count(*) AS people
FROM read.measures m
WHERE {_LATEST} AND {_FIRST} <= cardinality(m.earlier_at) AND NOT ({_BEYOND_KEPT})
GROUP BY 1, 2, 3, 4, 5, 6, 7
UNION ALL
SELECT m.instrument, first.score, first.clinical_range, {_PAIRS}, count(*)
FROM read.measures m CROSS JOIN LATERAL (
    SELECT x.score, x.clinical_range FROM read.measures x
    WHERE x.case_id = m.case_id AND x.instrument = m.instrument AND x.occurred_at >= $1
    ORDER BY x.occurred_at, x.entry_id LIMIT 1) first
WHERE {_LATEST} AND {_BEYOND_KEPT}
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""
"""How many people of two or more readings of an instrument in the period went from each baseline
to each latest reading (with what decides its category): the same pairs as ``IMPROVEMENT``'s."""


def classify(r: asyncpg.Record) -> ChangeCategory | None:
    """A person's change on one instrument from their first to latest reading; None with fewer than
    two readings or no published reliable-change threshold."""
    return None if r["n"] < 2 else category_of(r)


def category_of(r: asyncpg.Record) -> ChangeCategory | None:
    """The change from ``baseline`` to ``latest``; None with no published reliable-change threshold."""
    if r["reliable_change"] is None:
        return None
    return change_category(
        r["baseline"],
        r["latest"],
        threshold=r["reliable_change"],
        higher_is_better=r["higher_is_better"],
        clinical_at_baseline=r["clinical_at_baseline"],
        clinical_at_latest=r["clinical_at_latest"],
    )


def improvement_shares(rows: Sequence[asyncpg.Record]) -> list[ImprovementShare]:
    """Per instrument, how many people fell in each category of change (rows of ``CHANGES``)."""
    counts: dict[str, dict[ChangeCategory, int]] = {}
    for r in rows:
        category = category_of(r)
        if category is None:
            continue
        bucket = counts.setdefault(r["instrument"], dict.fromkeys(ChangeCategory, 0))
        bucket[category] += r["people"]
    result = []
    for instrument, bucket in sorted(counts.items()):
        people = sum(bucket.values())
        improved = bucket[ChangeCategory.RECOVERED] + bucket[ChangeCategory.RELIABLY_IMPROVED]
        result.append(
            ImprovementShare(
                instrument,
                people,
                bucket[ChangeCategory.RECOVERED],
                bucket[ChangeCategory.RELIABLY_IMPROVED],
                bucket[ChangeCategory.NO_RELIABLE_CHANGE],
                bucket[ChangeCategory.RELIABLY_DETERIORATED],
                round(improved / people, 4) if people else None,
            )
        )
    return result
