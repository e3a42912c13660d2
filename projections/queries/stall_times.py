"""When "stalled or worsening" items were flagged and how each ended, for the time from flag to action.

The action list judges a domain the person chose on its whole series of ratings at the moment it is
read, and keeps the item until a decision names the review that gave the latest reading. Here each
domain is judged at each of its readings the same way (``stall_reason``'s rule on the series up to
and including that reading, readings before the period too; worked out a series in one pass, and
many series at once, by ``stalled_in``):

- an item is flagged at the first reading judged stalled while none of that case and domain is open;
  while it is open, later readings add no new item;
- it is actioned by the first decision naming the review that gave the latest reading while that
  reading is still the latest (at or after it and before the next reading): that is what clears it
  from the list. A decision naming an earlier reading after a later one was recorded does not (the
  list would still show the item), and one dated before the review it names is not counted;
- it ends without action when, before any such decision, a later reading is no longer judged
  stalled: the list drops it, and no action was recorded. Such items are counted as flagged, neither
  actioned nor still open (``ended_without_action``), so the share actioned within 28 days stays a
  share of everything flagged: an item that ended by itself was on the list unactioned.

Whether an item is open before a reading depends only on the reading before it (judged stalled, and
not cleared by a decision before this one), so the walk starts one reading before the period (the
readings before it are not judged) and stops after its end once no item flagged in it is open. A
decision is counted up to ``now``. On the benchmark's largest service, the items still open now
(in open cases) were exactly the list's stalled or worsening items. The case need not be open now:
an item open when its case closed stays open, as for escalations rising and reviews with no
decision."""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from projections.queries import Reader
from projections.queries.stalled import stalled_in
from projections.statistics import Reading

__all__ = ["stall_flags"]

_DAY = 86400.0
# The cases of the scope, read a batch at a time: all of a year's series of every service at once
# held a quarter of a gigabyte at 1M events.
_CASES = "SELECT c.case_id FROM read.cases c WHERE ($1::text IS NULL OR c.service = $1) ORDER BY c.case_id"
# Each domain the person chose, in a batch of cases ($5), with a reading in the period (up to now),
# and all its readings up to now, oldest first, as arrays (one row a domain).
_SERIES = """
SELECT c.case_id, c.service, r.times, r.values
FROM read.cases c CROSS JOIN LATERAL unnest(c.domains) AS d(measure)
CROSS JOIN LATERAL (
    SELECT array_agg(g.occurred_at ORDER BY g.occurred_at, g.value) AS times,
           array_agg(g.value ORDER BY g.occurred_at, g.value) AS values
    FROM read.ratings g WHERE g.case_id = c.case_id AND g.measure = d.measure AND g.occurred_at <= $4
) r
WHERE c.case_id = ANY($5::uuid[]) AND ($3::text IS NULL OR c.service = $3)
  AND EXISTS (SELECT 1 FROM read.ratings g WHERE g.case_id = c.case_id AND g.measure = d.measure
               AND g.occurred_at >= $1 AND g.occurred_at < $2 AND g.occurred_at <= $4)
"""
# The first decision at or after each review (and up to now) naming it, for each case's reviews from
# the walk's first reading on: a probe a review, where one a reading asked the same of each domain.
_DECIDED = """
SELECT r.case_id, r.occurred_at, min(dc.decided_at) AS decided_at
FROM unnest($1::uuid[], $2::timestamptz[]) AS n(case_id, since)
JOIN read.reviews r ON r.case_id = n.case_id AND r.occurred_at >= n.since AND r.occurred_at <= $3
JOIN read.decision_causes dc ON dc.cause_id = r.entry_id AND dc.decided_at >= r.occurred_at
                             AND dc.decided_at <= $3
GROUP BY r.case_id, r.occurred_at
"""
_CASES_A_BATCH = 200
"""Cases read, judged together and walked at a time (about 600 series): a service's year is a second
or more of Python at 1M events, and between batches the event loop serves other requests (and the
read time limit can stop it)."""


async def stall_flags(
    conn: Reader, start: datetime, end: datetime, service: str | None, now: datetime
) -> AsyncIterator[dict[str, object]]:
    """One row per item flagged in [start, end) and up to now: service, month, kind, flagged_at,
    actioned_at (None unless actioned) and ended (True when it ended without action)."""
    cases = [row["case_id"] for row in await conn.fetch(_CASES, service)]
    for at in range(0, len(cases), _CASES_A_BATCH):
        series = await conn.fetch(_SERIES, start, end, service, now, cases[at : at + _CASES_A_BATCH])
        if not series:
            continue
        walks = [_Series(row["times"], row["values"], start) for row in series]
        since: dict[UUID, datetime] = {}
        for row, walk in zip(series, walks, strict=True):
            first = walk.times[walk.first]
            since[row["case_id"]] = min(first, since.get(row["case_id"], first))
        decided: dict[UUID, dict[datetime, datetime]] = {}
        for r in await conn.fetch(_DECIDED, list(since), list(since.values()), now):
            decided.setdefault(r["case_id"], {})[r["occurred_at"]] = r["decided_at"]
        judged = stalled_in([(walk.points, walk.first) for walk in walks])
        for row, walk, stalled in zip(series, walks, judged, strict=True):
            named = decided.get(row["case_id"], {})
            for flagged_at, actioned_at, ended in _walk(walk, stalled, named, start, end):
                yield {
                    "service": row["service"],
                    "month": flagged_at.date().replace(day=1),
                    "kind": "stalled",
                    "flagged_at": flagged_at,
                    "actioned_at": actioned_at,
                    "ended": ended,
                }


class _Series:
    """A domain's readings as ``stall_reason`` takes them (days from the first), and where the walk
    starts: the last reading before the period (or the first)."""

    __slots__ = ("first", "points", "times")

    def __init__(self, times: Sequence[datetime], values: Sequence[int], start: datetime) -> None:
        origin = times[0]
        self.times = times
        self.points = [
            Reading((at - origin).total_seconds() / _DAY, float(v))
            for at, v in zip(times, values, strict=True)
        ]
        self.first = max(bisect.bisect_left(times, start) - 1, 0)


def _walk(
    series: _Series,
    stalled: Sequence[bool],
    decided: Mapping[datetime, datetime],
    start: datetime,
    end: datetime,
) -> Iterator[tuple[datetime, datetime | None, bool]]:
    """The items of one domain flagged in [start, end): flagged_at, actioned_at (None unless
    actioned) and whether it ended without action. ``stalled``: the judgement at each reading from
    the walk's first; ``decided``: the first decision naming the case's review at each time."""
    times = series.times
    open_since: datetime | None = None
    counted = False  # the open item was flagged in the period
    for j, found in enumerate(stalled, start=series.first):
        if times[j] >= end and not (open_since is not None and counted):
            return
        # Named while still the latest reading: whatever comes next, nothing stays open after it.
        named = decided.get(times[j])
        considered = named is not None and (j + 1 == len(times) or named < times[j + 1])
        if open_since is not None and not found:
            if counted:
                yield open_since, None, True
            open_since = None
        elif open_since is None and found:
            open_since, counted = times[j], start <= times[j] < end
        if open_since is not None and considered:
            if counted:
                yield open_since, named, False
            open_since = None
    if open_since is not None and counted:
        yield open_since, None, False
