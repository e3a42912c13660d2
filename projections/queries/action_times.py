"""How fast the action loop closes: from an item's flag to the action that cleared it, by service,
month of the flag and kind, as a median and the share actioned within 28 days.

Counted for every kind the action list shows, each dated at both ends by the record:
- review due (flagged 14 days before the due date) and review overdue (flagged on the due date),
  both actioned by the next review;
- a review with no decision after 28 days (flagged on day 28, actioned by the first decision
  naming it);
- a plan change that named no cause when it was recorded (flagged when it happened, actioned by the
  first correction that made it name one: the audit trail keeps the original and says whether each
  plan change, or correction of one, names a cause);
- stalled or worsening domains: judged at each reading as the list judges the latest, flagged at
  the first found stalled, actioned by the first decision naming the review of the latest reading
  while it is the latest; an item whose domain is no longer judged stalled at a later reading before
  any such decision ended without action (``projections/queries/stall_times.py``);
- escalations rising: flagged at an escalation when, at that moment, the rate per open day in the
  last 90 days exceeded the 90 before (as the action list judges it), actioned by the first decision
  naming that escalation or a later one of the case; while an item is open, later escalations add no
  new item (the list shows one per case).

Every item flagged is counted once: actioned, still open, or (stalled domains only) ended without
action. The share within 28 days is of every item flagged, so an item that left the list unactioned
counts as not actioned within 28 days."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from datetime import date, datetime

import msgspec

from projections.models.review_outcomes import ACTION_WITHIN_DAYS
from projections.queries import Connect, RowLike
from projections.queries.actions import DUE_SOON_DAYS, ActionKind
from projections.queries.rising import rising_flags
from projections.queries.stall_times import stall_flags

__all__ = ["TimeToAction", "time_to_action"]


class TimeToAction(msgspec.Struct, frozen=True):
    """Items of one kind flagged in one service and month: how many, how many actioned (and within
    28 days), still open, and the median days from flag to action of those actioned; and how many
    ended without action (a stalled domain no longer judged stalled before any decision named it;
    always 0 for the other kinds). flagged = actioned + still_open + ended_without_action."""

    service: str
    month: date
    kind: ActionKind
    flagged: int
    actioned: int
    still_open: int
    median_days_to_action: float | None
    actioned_within_28_days: int
    share_within_28_days: float
    ended_without_action: int = 0


_DAYS = f"interval '{ACTION_WITHIN_DAYS} days'"
# A wait that began before this cannot fall due in the period: the longest interval a plan may set
# (52 weeks) or the service's default ($5), whichever is longer.
_LONGEST_WAIT = "make_interval(days => greatest(364, $5))"
# The service is filtered where the waits start: filtered at the end, one service's figures computed
# every service's waits (2 s a service at 1M events). A review's service is its case's (derived).
_SERVICE = "($3::text IS NULL OR service = $3)"
# Each review (and each opening) starts a wait for the next review, due after the interval then in
# force; it was overdue when the next came after that, or none has come and the case is still open.
_FLAGS = f"""
WITH waits AS (
    SELECT v.case_id, v.at, lead(v.at) OVER (PARTITION BY v.case_id ORDER BY v.at) AS next_at
    FROM (SELECT case_id, occurred_at AS at FROM read.reviews
           WHERE occurred_at >= $1::timestamptz - {_LONGEST_WAIT} AND {_SERVICE}
          UNION ALL SELECT case_id, opened_on::timestamp AT TIME ZONE 'UTC' FROM read.cases
           WHERE {_SERVICE}) v
), due AS MATERIALIZED (
    SELECT w.case_id, w.next_at, w.at + make_interval(days => coalesce((
        SELECT d.review_interval_weeks * 7 FROM read.decisions d
         WHERE d.case_id = w.case_id AND d.review_interval_weeks IS NOT NULL AND d.occurred_at <= w.at
         ORDER BY d.occurred_at DESC LIMIT 1), $5)) AS due_at
    FROM waits w
), waiting AS (
    -- Due soon (listed 14 days ahead) and overdue: the same waits, flagged at two moments.
    SELECT d.case_id, d.next_at, flag.kind, flag.at
    FROM due d CROSS JOIN LATERAL (VALUES ('overdue', d.due_at),
                                          ('due', d.due_at - interval '{DUE_SOON_DAYS} days')) flag(kind, at)
), flags AS (
    SELECT c.service, w.kind, w.at AS flagged_at, w.next_at AS actioned_at
    FROM waiting w JOIN read.cases c ON c.case_id = w.case_id
    WHERE (w.next_at > w.at) OR (w.next_at IS NULL AND coalesce((
        SELECT s.status FROM read.case_status s WHERE s.case_id = w.case_id
         ORDER BY s.occurred_at DESC LIMIT 1), 'open') <> 'closed')
    UNION ALL
    SELECT r.service, 'undecided', r.occurred_at + {_DAYS}, r.first_decided_at
    FROM read.reviews r
    WHERE r.occurred_at >= $1::timestamptz - {_DAYS} AND r.occurred_at < $2 AND {_SERVICE}
      AND (r.first_decided_at IS NULL OR r.first_decided_at > r.occurred_at + {_DAYS})
    UNION ALL
    SELECT c.service, 'unexplained', a.occurred_at, (
        SELECT min(x.occurred_at) FROM read.audit_entries x WHERE x.corrects = a.entry_id AND x.names_cause)
    FROM read.audit_entries a JOIN read.cases c ON c.case_id = a.case_id
    WHERE a.type = 'plan_changed' AND NOT a.names_cause AND a.occurred_at >= $1 AND a.occurred_at < $2
      AND ($3::text IS NULL OR c.service = $3)
)
SELECT f.service, date_trunc('month', f.flagged_at)::date AS month, f.kind, f.flagged_at, f.actioned_at,
       false AS ended
FROM flags f
WHERE f.flagged_at >= $1 AND f.flagged_at < $2 AND ($3::text IS NULL OR f.service = $3)
  AND f.flagged_at <= $4
ORDER BY 1, 2, 3
"""
_KINDS = {
    "due": ActionKind.REVIEW_DUE,
    "overdue": ActionKind.REVIEW_OVERDUE,
    "undecided": ActionKind.NO_DECISION,
    "unexplained": ActionKind.UNEXPLAINED_CHANGE,
    "rising": ActionKind.ESCALATIONS_RISING,
    "stalled": ActionKind.STALLED_OR_WORSENING,
}


async def time_to_action(
    connect: Connect,
    start: datetime,
    end: datetime,
    service: str | None,
    *,
    now: datetime,
    interval_days: int,
) -> list[TimeToAction]:
    """Per service, month of the flag and kind: flagged, actioned, median days and share within 28.
    Stalled domains on one connection from ``connect``, the other kinds meanwhile on a second: at
    10M events a service's year was 2.5 s of reviews and escalations beside 9 s of stalls."""
    # Tallied as they come, not kept: stalled domains alone flag over 50,000 items a service-year
    # at 1M events.
    tallies: dict[tuple[str, date, str], _Tally] = {}
    others = asyncio.ensure_future(_other_flags(connect, (start, end, service, now, interval_days)))
    try:
        # Closed before the connection goes back: an abandoned generator's read-ahead would still
        # be running on it.
        async with (
            connect() as conn,
            contextlib.aclosing(stall_flags(conn, start, end, service, now)) as stalls,
        ):
            async for stalled in stalls:
                _tally(tallies, stalled, now)
        for row in await others:
            _tally(tallies, row, now)
    except BaseException:
        others.cancel()
        await asyncio.wait([others])  # let go of its connection before this failure is reported
        if not others.cancelled():
            others.exception()  # seen: its failure, if any, is this one's
        raise
    return _figures(tallies)


async def _other_flags(
    connect: Connect, args: tuple[datetime, datetime, str | None, datetime, int]
) -> list[RowLike]:
    """Reviews due, overdue and undecided, plan changes naming no cause, and escalations rising
    (``args``: _FLAGS' parameters, the first four rising_flags')."""
    async with connect() as conn:
        flags: list[RowLike] = list(await conn.fetch(_FLAGS, *args))
        return flags + await rising_flags(conn, *args[:4])


def _figures(tallies: dict[tuple[str, date, str], _Tally]) -> list[TimeToAction]:
    figures = []
    for (svc, month, kind), tally in sorted(tallies.items()):
        waits, flagged = tally.waits, tally.flagged
        within = sum(1 for wait in waits if wait <= ACTION_WITHIN_DAYS)
        figures.append(
            TimeToAction(
                service=svc,
                month=month,
                kind=_KINDS[kind],
                flagged=flagged,
                actioned=len(waits),
                still_open=flagged - len(waits) - tally.ended,
                median_days_to_action=round(statistics.median(waits), 1) if waits else None,
                actioned_within_28_days=within,
                share_within_28_days=round(within / flagged, 4),
                ended_without_action=tally.ended,
            )
        )
    return figures


class _Tally:
    """The items of one service, month and kind: how many, the days to action of those actioned by
    now, and how many ended without action."""

    __slots__ = ("ended", "flagged", "waits")

    def __init__(self) -> None:
        self.flagged, self.ended = 0, 0
        self.waits: list[float] = []


def _tally(tallies: dict[tuple[str, date, str], _Tally], row: RowLike, now: datetime) -> None:
    tally = tallies.setdefault((row["service"], row["month"], row["kind"]), _Tally())
    tally.flagged += 1
    if row["actioned_at"] is not None and row["actioned_at"] <= now:
        tally.waits.append((row["actioned_at"] - row["flagged_at"]).total_seconds() / 86400)
    elif row["ended"]:
        tally.ended += 1
