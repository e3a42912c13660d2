"""Review impact, for governance: which reviews led to action, how fast, and which plan changes had
no review, setback or escalation behind them."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.models.review_outcomes import ACTION_WITHIN_DAYS
from projections.queries import Reader, days, in_period

__all__ = ["ImpactQuery", "ReviewImpact", "review_impact", "review_outcome"]

NO_DECISION_AFTER_DAYS = ACTION_WITHIN_DAYS
"""A review with no plan decision this long after it needs attention (it has not led to action)."""


class ImpactQuery(msgspec.Struct, frozen=True):
    """The period (occurred_at, half-open) and optionally one service."""

    start: datetime
    end: datetime
    service: str | None = None
    limit: int = 100


class ReviewDecisions(msgspec.Struct, frozen=True):
    """One review and the decisions that named it. ``outcome``: plan changed or plan confirmed (a
    decision within 28 days: it led to action), decided after 28 days, no decision after 28 days,
    or awaiting decision."""

    entry_id: UUID
    case_id: UUID
    service: str
    occurred_at: datetime
    kind: str
    decisions: list[dict[str, object]]
    days_to_first_decision: float | None
    outcome: str


class MonthShare(msgspec.Struct, frozen=True):
    """Reviews in one service and month: how many led to change (a plan change naming the review
    within 28 days), to action (a plan change or a "no change, because ..." confirmation naming it
    within 28 days) and to any decision at all, however late, with the median days to the first."""

    service: str
    month: date
    reviews: int
    led_to_change: int
    led_to_decision: int
    share_led_to_change: float
    median_days_to_decision: float | None
    led_to_action: int
    share_led_to_action: float


class Unexplained(msgspec.Struct, frozen=True):
    """A plan change that names no review, setback or escalation."""

    entry_id: UUID
    case_id: UUID
    service: str
    occurred_at: datetime


class ReviewImpact(msgspec.Struct, frozen=True):
    """The governance view of how reviews changed delivery in a period."""

    by_service_month: list[MonthShare]
    reviews: list[ReviewDecisions]
    no_decision_after_28_days: list[ReviewDecisions]
    no_decision_after_28_days_total: int
    changes_without_cause: list[Unexplained]
    changes_without_cause_total: int


_IN_PERIOD = in_period("r")
_OUTCOMES = f"""
SELECT r.entry_id, r.case_id, r.occurred_at, r.kind, r.service, r.first_decided_at AS first_decision,
       r.changed, r.actioned
FROM read.reviews r WHERE {_IN_PERIOD}
"""

# Counted per service, month, outcome and days to decision (to 0.1 day, the precision shown): the
# shares and the median come from these counts, without sorting every review as percentile_cont does.
# Whole UTC days of the period are read from the per-day summary (read.review_days); only the part
# days at either end of the period are counted from the reviews themselves.
_TENTHS = "(date_part('epoch', r.first_decided_at - r.occurred_at) / 8640)::int"
_UTC = "($1::timestamptz AT TIME ZONE 'UTC')"
_FIRST_DAY = f"(CASE WHEN {_UTC} = date_trunc('day', {_UTC}) THEN {_UTC}::date ELSE {_UTC}::date + 1 END)"
_END_DAY = "($2::timestamptz AT TIME ZONE 'UTC')::date"
WHOLE_DAYS = f"SELECT {_FIRST_DAY} AS first_day, {_END_DAY} AS end_day"


def at_the_edges(alias: str) -> str:
    """The part days at either end of the period ([$1, first whole day) and [end of the whole days,
    $2), empty where the period starts or ends at midnight UTC), beside the whole days of
    WHOLE_DAYS. Written over the parameters alone, so the planner sees two short ranges of
    ``occurred_at`` and probes its index: joined to a list of edges, it scanned the whole table."""
    first = f"({_FIRST_DAY}::timestamp AT TIME ZONE 'UTC')"
    end = f"({_END_DAY}::timestamp AT TIME ZONE 'UTC')"
    at = f"{alias}.occurred_at"
    return (
        f"(({at} >= $1::timestamptz AND {at} < least($2::timestamptz, {first}))"
        f" OR ({at} >= greatest($1::timestamptz, {first}, {end}) AND {at} < $2::timestamptz))"
    )


_BY_MONTH = f"""
WITH days AS ({WHOLE_DAYS})
SELECT service, month, changed, actioned, tenths, sum(n)::bigint AS n FROM (
    SELECT s.service, date_trunc('month', s.day)::date AS month, s.changed, s.actioned,
           CASE WHEN s.decided THEN s.tenths END AS tenths, s.reviews AS n
    FROM read.review_days s, days
    WHERE s.day >= days.first_day AND s.day < days.end_day AND ($3::text IS NULL OR s.service = $3)
    UNION ALL
    SELECT r.service, date_trunc('month', r.occurred_at AT TIME ZONE 'UTC')::date, r.changed, r.actioned,
           {_TENTHS}, 1
    FROM read.reviews r
    WHERE {at_the_edges("r")}
      AND ($3::text IS NULL OR r.service = $3) AND r.service IS NOT NULL
) counted
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2
"""

_UNDECIDED = f"""
    AND r.first_decided_at IS NULL
    AND r.occurred_at < $4::timestamptz - interval '{NO_DECISION_AFTER_DAYS} days'
"""
_OVERDUE = f"{_OUTCOMES} {_UNDECIDED} ORDER BY r.occurred_at LIMIT $5"
_OVERDUE_TOTAL = f"SELECT count(*) FROM read.reviews r WHERE {_IN_PERIOD} {_UNDECIDED}"

_UNEXPLAINED = f"""
SELECT d.entry_id, d.case_id, c.service, d.occurred_at, count(*) OVER () AS total
FROM read.decisions d JOIN read.cases c ON c.case_id = d.case_id
WHERE d.kind = 'plan_changed' AND NOT d.caused AND {in_period("d", "c")}
ORDER BY d.occurred_at LIMIT $4
"""


async def review_impact(conn: Reader, query: ImpactQuery, now: datetime) -> ReviewImpact:
    """Per review, per service and month, and the exceptions governance asks about."""
    args = (query.start, query.end, query.service)
    months = await conn.fetch(_BY_MONTH, *args)
    recent = await conn.fetch(f"{_OUTCOMES} ORDER BY r.occurred_at DESC LIMIT $4", *args, query.limit)
    overdue = await conn.fetch(_OVERDUE, *args, now, query.limit)
    overdue_total = len(overdue)
    if overdue_total == query.limit:  # only then can there be more than the page shows
        overdue_total = await conn.fetchval(_OVERDUE_TOTAL, *args, now)
    unexplained = await conn.fetch(_UNEXPLAINED, *args, query.limit)
    decided = await conn.fetch(
        "SELECT cause_id, entry_id, decision_kind, decided_at FROM read.decision_causes"
        " WHERE cause_id = ANY($1::uuid[]) ORDER BY decided_at",
        [row["entry_id"] for row in recent],
    )
    decisions: dict[UUID, list[asyncpg.Record]] = {}
    for row in decided:
        decisions.setdefault(row["cause_id"], []).append(row)
    return ReviewImpact(
        by_service_month=_months(months),
        reviews=[_review(row, now, decisions.get(row["entry_id"], [])) for row in recent],
        no_decision_after_28_days=[_review(row, now, []) for row in overdue],
        no_decision_after_28_days_total=int(overdue_total),
        changes_without_cause=[
            Unexplained(row["entry_id"], row["case_id"], row["service"], row["occurred_at"])
            for row in unexplained
        ],
        changes_without_cause_total=int(unexplained[0]["total"]) if unexplained else 0,
    )


def _months(rows: list[asyncpg.Record]) -> list[MonthShare]:
    """Shares and median days to decision per service and month, from counts (rows come in order)."""
    shares = []
    for (service, month), group in itertools.groupby(rows, key=lambda r: (r["service"], r["month"])):
        counts = list(group)
        decided = sorted((r["tenths"] / 10, r["n"]) for r in counts if r["tenths"] is not None)
        reviews = sum(r["n"] for r in counts)
        changed = sum(r["n"] for r in counts if r["changed"])
        actioned = sum(r["n"] for r in counts if r["actioned"])
        shares.append(
            MonthShare(
                service=service,
                month=month,
                reviews=reviews,
                led_to_change=changed,
                led_to_decision=sum(n for _, n in decided),
                share_led_to_change=round(changed / reviews, 4),
                median_days_to_decision=_median(decided),
                led_to_action=actioned,
                share_led_to_action=round(actioned / reviews, 4),
            )
        )
    return shares


def _median(counted: list[tuple[float, int]]) -> float | None:
    """The median of sorted (value, count) pairs: the middle value, or the mean of the middle two."""
    total = sum(n for _, n in counted)
    if not total:
        return None
    middle, seen, lower = (total - 1) / 2, 0, None
    for value, n in counted:
        if lower is None and seen + n > math.floor(middle):
            lower = value
        if seen + n > math.ceil(middle):
            return round(((lower if lower is not None else value) + value) / 2, 1)
        seen += n
    return None


def review_outcome(row: asyncpg.Record, now: datetime) -> str:
    """What a review led to: plan changed or plan confirmed (within 28 days), decided after 28 days,
    no decision after 28 days, or awaiting decision (needs changed, actioned, first_decision)."""
    if row["changed"]:
        return "plan changed"
    if row["actioned"]:
        return "plan confirmed"
    if row["first_decision"] is not None:
        return f"decided after {ACTION_WITHIN_DAYS} days"
    if (now - row["occurred_at"]).days >= NO_DECISION_AFTER_DAYS:
        return f"no decision after {NO_DECISION_AFTER_DAYS} days"
    return "awaiting decision"


def _review(row: asyncpg.Record, now: datetime, decisions: list[asyncpg.Record]) -> ReviewDecisions:
    first = row["first_decision"]
    outcome = review_outcome(row, now)
    return ReviewDecisions(
        entry_id=row["entry_id"],
        case_id=row["case_id"],
        service=row["service"],
        occurred_at=row["occurred_at"],
        kind=row["kind"],
        decisions=[
            {
                "entry_id": d["entry_id"],
                "kind": d["decision_kind"],
                "occurred_at": d["decided_at"],
                "days_after": days(d["decided_at"] - row["occurred_at"]),
            }
            for d in decisions
        ],
        days_to_first_decision=None if first is None else days(first - row["occurred_at"]),
        outcome=outcome,
    )
