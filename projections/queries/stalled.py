"""Stalled or worsening trajectories, for the action loop: in a domain the person chose, a reliable
deterioration over the record, or no reliable change and a flat trend over the last six months.
Kept until a decision names the review that gave the latest reading (it was considered)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from uuid import UUID

import asyncpg
import msgspec

from projections.flat_trends import interval_holds_zero
from projections.queries import Reader
from projections.statistics import (
    MIN_SPAN_DAYS,
    DirectionLabel,
    Reading,
    direction,
    label_of,
    reaches,
    theil_sen,
)

__all__ = [
    "FLAT_WINDOW_DAYS",
    "MIN_FLAT_SPAN_DAYS",
    "Stall",
    "stall_reason",
    "stalled_domains",
    "stalled_in",
]

FLAT_WINDOW_DAYS = 183
"""Six months: the window a flat trend is judged over."""
MIN_FLAT_SPAN_DAYS = 120
"""The readings in that window must span this long to call the trend flat over six months."""
_DAY = 86400.0


class Stall(msgspec.Struct, frozen=True):
    """A domain that is stalled or worsening, with the latest reading's time (when it was flagged)."""

    case_id: UUID
    person_ref: str
    service: str
    domain: str
    reason: str
    flagged_at: datetime
    n: int


@functools.cache
def _threshold() -> float:
    raw = resources.files("projections").joinpath("thresholds.json").read_bytes()
    ratings = msgspec.json.decode(raw, type=dict[str, dict[str, object]])["ratings"]
    return float(str(ratings["reliable_change"]))


def stall_reason(readings: Sequence[Reading]) -> str | None:
    """Why a domain's readings (days from any origin, oldest first) need action, or None."""
    threshold = _threshold()
    if not readings:
        return None
    # A reliable deterioration needs the net change to reach the threshold downwards: without that,
    # the whole record's label is not needed. Labels never need the trend (the costly part).
    if reaches(readings[0].value - readings[-1].value, threshold):
        whole = direction(readings, threshold=threshold, higher_is_better=True, with_trend=False)
        if whole.label is DirectionLabel.RELIABLE_DETERIORATION:
            return "reliable deterioration"
    recent = [r for r in readings if r.day >= readings[-1].day - FLAT_WINDOW_DAYS]
    if readings[-1].day - recent[0].day < MIN_FLAT_SPAN_DAYS:  # oldest first: too short to be flat
        return None
    window = direction(recent, threshold=threshold, higher_is_better=True, with_trend=False)
    # The trend only for a stable window: most windows fail that first.
    if window.label is not DirectionLabel.STABLE:
        return None
    trend = theil_sen(recent)
    flat = trend is not None and (
        trend.lower_per_day is None
        or trend.upper_per_day is None
        or trend.lower_per_day <= 0 <= trend.upper_per_day
    )
    return "no reliable change, flat for 6 months" if flat else None


def stalled_in(series: Sequence[tuple[Sequence[Reading], int]]) -> list[list[bool]]:
    """For each series (readings oldest first) and each reading from its index ``first`` on, whether
    ``stall_reason`` finds the readings up to and including it stalled: for the time to action, which
    judges every reading of a period. The same rule in one pass a series: the record's largest rise
    and fall so far kept as it goes, the six-month window's start moving on, and the trends of the
    windows that could be flat worked out together at the end (``interval_holds_zero``). A unit test
    holds it to ``stall_reason`` on random series."""
    threshold = _threshold()
    judged: list[list[bool]] = []
    windows: list[tuple[int, int, Sequence[Reading]]] = []  # series, position, window
    for readings, first in series:
        steps = [b.value - a.value for a, b in itertools.pairwise(readings)]
        rises, falls = list(itertools.accumulate(steps, max)), list(itertools.accumulate(steps, min))
        answers: list[bool] = []
        start = 0
        for j in range(first, len(readings)):
            last = readings[j]
            while readings[start].day < last.day - FLAT_WINDOW_DAYS:
                start += 1
            worse = (
                j >= 2
                and reaches(readings[0].value - last.value, threshold)
                and _label(readings[0], last, rises[j - 1], falls[j - 1], threshold)
                is DirectionLabel.RELIABLE_DETERIORATION
            )
            if not worse and _stable_window(readings, steps, start, j, threshold):
                windows.append((len(judged), len(answers), readings[start : j + 1]))
            answers.append(worse)
        judged.append(answers)
    for (at, position, _), flat in zip(windows, interval_holds_zero([w for _, _, w in windows]), strict=True):
        judged[at][position] = flat
    return judged


def _stable_window(
    readings: Sequence[Reading], steps: list[float], start: int, last: int, threshold: float
) -> bool:
    """``stall_reason``'s second rule but the trend, on the window readings[start..last]: at least
    3 readings spanning 120 days, labelled stable."""
    if readings[last].day - readings[start].day < MIN_FLAT_SPAN_DAYS or last - start < 2:
        return False
    window = steps[start:last]
    label = _label(readings[start], readings[last], max(window), min(window), threshold)
    return label is DirectionLabel.STABLE


def _label(first: Reading, last: Reading, rise: float, fall: float, threshold: float) -> DirectionLabel:
    """``direction``'s label of readings from ``first`` to ``last`` (oldest first; at least 3) given
    their largest step up and down (higher is better for ratings)."""
    if last.day - first.day < MIN_SPAN_DAYS:
        return DirectionLabel.INSUFFICIENT_DATA
    return label_of(last.value - first.value, rise, fall, threshold)


# The readings of each domain the person chose whose latest reading came from a review no decision
# has named yet (only those can be listed): the rest are never fetched or computed.
_RATINGS = """
, unconsidered AS MATERIALIZED (
    SELECT s.case_id, s.person_ref, s.service, d.measure
    FROM scope s CROSS JOIN LATERAL unnest(s.domains) AS d(measure)
    CROSS JOIN LATERAL (SELECT max(g.occurred_at) AS at FROM read.ratings g
                         WHERE g.case_id = s.case_id AND g.measure = d.measure AND g.occurred_at <= $4) last
    -- A scalar subquery, one index probe per domain: written as NOT EXISTS, the planner hashed
    -- every decided review of every service (the whole table) to rule out a few thousand.
    WHERE last.at IS NOT NULL AND NOT coalesce((
        SELECT bool_or(r.first_decided_at IS NOT NULL) FROM read.reviews r
         WHERE r.case_id = s.case_id AND r.occurred_at = last.at), false)
)
SELECT u.case_id, u.person_ref, u.service, u.measure, g.occurred_at, g.value
-- OFFSET 0 keeps the readings a per-domain index probe: flattened, the planner may scan every rating.
FROM unconsidered u CROSS JOIN LATERAL (SELECT g.occurred_at, g.value FROM read.ratings g
                     WHERE g.case_id = u.case_id AND g.measure = u.measure AND g.occurred_at <= $4
                     OFFSET 0) g
ORDER BY u.case_id, u.measure, g.occurred_at
"""


async def stalled_domains(conn: Reader, scope_sql: str, args: tuple[object, ...]) -> list[Stall]:
    """Stalled or worsening domains in the scope's open cases whose latest reading no decision named."""
    series: dict[tuple[UUID, str], list[asyncpg.Record]] = {}
    rows = await conn.fetch(scope_sql + _RATINGS, *args)
    for row in rows:
        series.setdefault((row["case_id"], row["measure"]), []).append(row)
    stalls = []
    for (case_id, domain), readings in series.items():
        latest = readings[-1]
        origin = readings[0]["occurred_at"]
        points = [
            Reading((r["occurred_at"] - origin).total_seconds() / _DAY, float(r["value"])) for r in readings
        ]
        reason = stall_reason(points)
        if reason is not None:
            stalls.append(
                Stall(
                    case_id,
                    latest["person_ref"],
                    latest["service"],
                    domain,
                    reason,
                    latest["occurred_at"],
                    len(points),
                )
            )
    return stalls
