"""Stalled or worsening trajectories, for the action loop: in a domain the person chose, a reliable
deterioration over the record, or no reliable change and a flat trend over the last six months.
Kept until a decision names the review that gave the latest reading (it was considered)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from uuid import UUID

import asyncpg
import msgspec
import numpy as np

from projections.flat_trends import Flags, Floats, Indices, interval_holds_zero
from projections.queries import Reader
from projections.statistics import (
    MIN_SPAN_DAYS,
    DirectionLabel,
    Reading,
    direction,
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


def stalled_in(days: Floats, values: Floats, offsets: Indices, judged: Flags) -> Flags:
    """Of readings of many series laid end to end (``offsets``: where each series begins, then the
    end; days from any origin, oldest first), whether ``stall_reason`` finds a series stalled on its
    readings up to and including each reading ``judged`` (False at the others): for the time to
    action, which judges every reading of a period. The same rule on whole arrays: the record's
    largest rise and fall so far, each reading's six-month window and its largest steps, and the
    trends of the windows that could be flat worked out together (``interval_holds_zero``); the same
    float comparisons, so the same answers. A unit test holds it to ``stall_reason`` on random series."""
    threshold = _threshold()
    lengths = np.diff(offsets)
    series = np.repeat(np.arange(len(lengths)), lengths)
    origin = offsets[series]  # each reading's series' first
    steps = values - np.concatenate(([np.nan], values[:-1]))
    steps[offsets[:-1]] = np.nan  # a series' first reading has no step
    rise, fall = _so_far(steps, series, largest=True), _so_far(steps, series, largest=False)
    at = np.arange(len(days))
    swung, better, worse_off = _moved(values[origin], values, rise, fall, threshold)
    long_enough = (at - origin >= 2) & (days - days[origin] >= MIN_SPAN_DAYS)
    worse = judged & long_enough & ~swung & ~better & worse_off
    start = _window_starts(days, series)
    candidates = np.flatnonzero(
        judged & ~worse & (at - start >= 2) & (days - days[start] >= MIN_FLAT_SPAN_DAYS)
    )
    first, last = start[candidates], candidates
    window_rise, window_fall = _largest_steps(steps, first + 1, last)
    stable = ~np.logical_or.reduce(_moved(values[first], values[last], window_rise, window_fall, threshold))
    flat = interval_holds_zero(days, values, first[stable], last[stable] + 1)
    stalled = worse.copy()
    stalled[last[stable][flat]] = True
    return stalled


def _reaches(change: Floats, threshold: float) -> Flags:
    """``reaches`` on arrays, with ``math.isclose``'s tolerance (False where NaN)."""
    near = np.abs(change - threshold) <= np.maximum(1e-9 * np.maximum(np.abs(change), threshold), 1e-12)
    flags: Flags = (change >= threshold) | near
    return flags


def _moved(first: Floats, last: Floats, rise: Floats, fall: Floats, threshold: float) -> tuple[Flags, ...]:
    """``label_of``'s tests (spans checked by the caller): swung reliably both ways, reliably
    better, reliably worse."""
    swung = _reaches(rise, threshold) & _reaches(-fall, threshold)
    return swung, _reaches(last - first, threshold), _reaches(first - last, threshold)


def _so_far(steps: Floats, series: Indices, *, largest: bool) -> Floats:
    """The largest (or smallest) step of each reading's series up to it, NaN before any: steps are
    ranked, exactly, and each series' ranks lifted above the last's so one running maximum serves
    every series."""
    valid = ~np.isnan(steps)
    if not valid.any():
        return np.full(len(steps), np.nan)
    ranks, rank_of = np.unique(steps[valid], return_inverse=True)
    rank = np.full(len(steps), -1, dtype=np.int64)  # no step yet
    rank[valid] = rank_of if largest else len(ranks) - 1 - rank_of
    lift = series * (len(ranks) + 1)
    running = np.maximum.accumulate(rank + lift) - lift
    found = ranks[np.maximum(running, 0) if largest else len(ranks) - 1 - np.maximum(running, 0)]
    result: Floats = np.where(running >= 0, found, np.nan)
    return result


def _window_starts(days: Floats, series: Indices) -> Indices:
    """For each reading, the first reading of its series no more than six months before it, by the
    same float comparison as ``stall_reason``. Complex numbers order by real part, then imaginary:
    with the series as the one and the day as the other (both exact), one sorted search serves
    every series."""
    keys = series + 1j * days
    starts: Indices = np.searchsorted(keys, series + 1j * (days - FLAT_WINDOW_DAYS))
    return starts


def _largest_steps(steps: Floats, first: Indices, last: Indices) -> tuple[Floats, Floats]:
    """The largest step up and down among steps[first..last] (inclusive; last > first): each
    window one segment of ``reduceat``, which reduces between consecutive bounds (the segments
    between one window's end and the next one's start are dropped)."""
    bounds = np.empty(2 * len(first), dtype=np.intp)
    bounds[0::2], bounds[1::2] = first, last + 1
    padded = np.append(steps, 0.0)  # a window may end at the last step
    rise: Floats = np.maximum.reduceat(padded, bounds)[0::2]
    fall: Floats = np.minimum.reduceat(padded, bounds)[0::2]
    return rise, fall


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
