"""When "stalled or worsening" items were flagged and how each ended, for the time from flag to action.

The action list judges a domain the person chose on its whole series of ratings at the moment it is
read, and keeps the item until a decision names the review that gave the latest reading. Here each
domain is judged at each of its readings the same way (``stall_reason``'s rule on the series up to
and including that reading, readings before the period too; worked out for many series at once,
on arrays, by ``stalled_in``):

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

import asyncio
import contextlib
import itertools
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import numpy as np

from projections.queries import Reader
from projections.queries.stalled import stalled_in

__all__ = ["stall_flags"]

_DAY = 86400.0
_EPOCH, _MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
# The cases of the scope, read a batch at a time: all of a year's series of every service at once
# held a quarter of a gigabyte at 1M events.
_CASES = "SELECT c.case_id FROM read.cases c WHERE ($1::text IS NULL OR c.service = $1) ORDER BY c.case_id"
# Times as whole microseconds since 1970 (UTC): compared and subtracted as integers, and read as
# such a quarter of the time datetimes took (a million readings for every service's year at 1M).
_MICROS = "(extract(epoch FROM {}) * 1000000)::int8"
# Each domain the person chose, in a batch of cases ($5), with a reading in the period (up to now),
# and all its readings up to now, oldest first, as arrays (one row a domain).
_SERIES = f"""
SELECT c.case_id, c.service, r.micros, r.values
FROM read.cases c CROSS JOIN LATERAL unnest(c.domains) AS d(measure)
CROSS JOIN LATERAL (
    SELECT array_agg({_MICROS.format("g.occurred_at")} ORDER BY g.occurred_at, g.value) AS micros,
           array_agg(g.value::float8 ORDER BY g.occurred_at, g.value) AS values
    FROM read.ratings g WHERE g.case_id = c.case_id AND g.measure = d.measure AND g.occurred_at <= $4
) r
WHERE c.case_id = ANY($5::uuid[]) AND ($3::text IS NULL OR c.service = $3)
  AND EXISTS (SELECT 1 FROM read.ratings g WHERE g.case_id = c.case_id AND g.measure = d.measure
               AND g.occurred_at >= $1 AND g.occurred_at < $2 AND g.occurred_at <= $4)
"""
# The first decision at or after each review (and up to now) naming it, for each case's reviews from
# the walk's first reading on: a probe a review, where one a reading asked the same of each domain.
_DECIDED = f"""
SELECT r.case_id, {_MICROS.format("r.occurred_at")} AS occurred_at,
       {_MICROS.format("min(dc.decided_at)")} AS decided_at
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
) -> AsyncGenerator[dict[str, object], None]:
    """One row per item flagged in [start, end) and up to now: service, month, kind, flagged_at,
    actioned_at (None unless actioned) and ended (True when it ended without action)."""
    async with contextlib.aclosing(_batches(conn, (start, end, service, now))) as batches:
        async for batch, decided in batches:
            for item in _items(batch, decided):
                yield item


def _items(batch: _Batch, decided: Decided) -> Iterator[dict[str, object]]:
    """The items flagged in a batch's series, judged together and walked one by one."""
    stalled = stalled_in(batch.days, batch.values, batch.offsets, batch.judged).tolist()
    offsets, firsts = batch.offsets.tolist(), batch.firsts.tolist()
    for i, row in enumerate(batch.series):
        named = decided.get(row["case_id"], {})
        judged = stalled[offsets[i] + firsts[i] : offsets[i + 1]]
        items = _walk(row["micros"], firsts[i], judged, named, start=batch.start, end=batch.end)
        for flagged, actioned, ended in items:
            flagged_at = _at(flagged)
            yield {
                "service": row["service"],
                "month": flagged_at.date().replace(day=1),
                "kind": "stalled",
                "flagged_at": flagged_at,
                "actioned_at": None if actioned is None else _at(actioned),
                "ended": ended,
            }


Decided = dict[UUID, dict[int, int]]


async def _batches(
    conn: Reader, args: tuple[datetime, datetime, str | None, datetime]
) -> AsyncGenerator[tuple[_Batch, Decided], None]:
    """Each batch's series with the decisions naming their reviews. The next batch's series are
    asked for before this one is handed on, so PostgreSQL reads them while this one is judged and
    walked (on two cores a third of the time every service's year took at 1M events)."""
    service, now = args[2:]
    cases = [row["case_id"] for row in await conn.fetch(_CASES, service)]
    parts = [cases[at : at + _CASES_A_BATCH] for at in range(0, len(cases), _CASES_A_BATCH)]
    asked: asyncio.Future[list[asyncpg.Record]] | None = None
    try:
        for index, part in enumerate(parts):
            series = await (asked or conn.fetch(_SERIES, *args, part))
            asked = None
            batch = _Batch(series, *args[:2]) if series else None
            decided: Decided = {}
            if batch is not None:
                for r in await conn.fetch(_DECIDED, *batch.walked_since(), now):
                    decided.setdefault(r["case_id"], {})[r["occurred_at"]] = r["decided_at"]
            if index + 1 < len(parts):
                asked = asyncio.ensure_future(conn.fetch(_SERIES, *args, parts[index + 1]))
                await asyncio.sleep(0)  # sent before this batch is judged
            if batch is not None:
                yield batch, decided
    finally:
        if asked is not None:  # the connection is free again only once it has stopped
            asked.cancel()
            await asyncio.wait([asked])


class _Batch:
    """A batch's series end to end as ``stalled_in`` takes them: days from each series' first
    reading (as ``(t - first).total_seconds() / 86400``, from whole microseconds), and where each
    series' walk starts: at the last reading before the period (or the first)."""

    __slots__ = ("days", "end", "firsts", "judged", "offsets", "series", "start", "values")

    def __init__(self, series: Sequence[asyncpg.Record], start: datetime, end: datetime) -> None:
        self.series, self.start, self.end = series, _micros(start), _micros(end)
        lengths = np.array([len(row["micros"]) for row in series])
        self.offsets = np.concatenate(([0], np.cumsum(lengths)))
        micros = np.array(list(itertools.chain.from_iterable(row["micros"] for row in series)))
        self.values = np.array(list(itertools.chain.from_iterable(row["values"] for row in series)))
        origin = np.repeat(self.offsets[:-1], lengths)
        self.days = (micros - micros[origin]) / 1e6 / _DAY
        before = np.add.reduceat(micros < self.start, self.offsets[:-1])
        self.firsts = np.maximum(before - 1, 0)
        self.judged = np.arange(len(micros)) - origin >= np.repeat(self.firsts, lengths)

    def walked_since(self) -> tuple[list[UUID], list[datetime]]:
        """Each case of the batch and its earliest reading walked: decisions from then on count."""
        since: dict[UUID, int] = {}
        for row, first in zip(self.series, self.firsts.tolist(), strict=True):
            at = row["micros"][first]
            since[row["case_id"]] = min(at, since.get(row["case_id"], at))
        return list(since), [_at(at) for at in since.values()]


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _at(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _walk(
    times: Sequence[int],
    first: int,
    stalled: Sequence[bool],
    decided: Mapping[int, int],
    *,
    start: int,
    end: int,
) -> Iterator[tuple[int, int | None, bool]]:
    """The items of one domain flagged in [start, end): flagged at, actioned at (None unless
    actioned) and whether it ended without action, times in microseconds. ``times``: the domain's
    readings; ``stalled``:
    the judgement at each from the walk's ``first`` on; ``decided``: the first decision naming the
    case's review at each time."""
    open_since: int | None = None
    counted = False  # the open item was flagged in the period
    for j, found in enumerate(stalled, start=first):
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
