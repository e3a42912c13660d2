"""Service-level learning, for governance and reporting: common barriers, approaches that help,
escalation rates per 1,000 open days, share of people reliably improving, and SPC charts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

import asyncpg
import msgspec

from projections.queries import Reader
from projections.queries.impact import WHOLE_DAYS, at_the_edges
from projections.queries.outcome_change import CHANGES, ImprovementShare, improvement_shares
from projections.spc import XmRChart, xmr

__all__ = ["ServiceLearning", "ServiceQuery", "SpcMetric", "service_learning", "spc"]

SpcMetric = Literal[
    "escalations-per-1000-open-days", "reviews-leading-to-change", "reviews-leading-to-action"
]
"""The monthly service series an XmR chart can be drawn for. A review leads to change when a plan
change names it within 28 days, and to action when a plan change or a "no change, because ..."
confirmation does."""


class ServiceQuery(msgspec.Struct, frozen=True):
    """A period (half-open, by when things happened) and optionally one service."""

    start: datetime
    end: datetime
    service: str | None = None


class FactorCount(msgspec.Struct, frozen=True):
    factor: str
    setbacks: int


class FactorsInMonth(msgspec.Struct, frozen=True):
    month: date
    ranked: list[FactorCount]


class StrategyEffect(msgspec.Struct, frozen=True):
    """A strategy introduced by plan changes, and how the person's domain ratings moved in the 90 days
    after compared with the 90 days before (mean change, over introductions with ratings on both sides)."""

    strategy: str
    introductions: int
    with_ratings: int
    mean_rating_change: float | None


class MonthRate(msgspec.Struct, frozen=True):
    month: date
    escalations: int
    open_days: float
    per_1000_open_days: float | None


class ServiceLearning(msgspec.Struct, frozen=True):
    """What the service can learn from its reviews and setbacks in a period."""

    contributing_factors: list[FactorCount]
    contributing_factors_by_month: list[FactorsInMonth]
    strategies: list[StrategyEffect] | None
    escalations_per_1000_open_days: list[MonthRate]
    reliable_improvement: list[ImprovementShare]


# Whole UTC days from the per-day summary (read.setback_factor_days), the part days at either end of
# the period from the setbacks, as review impact counts reviews (WHOLE_DAYS and at_the_edges).
_FACTORS = f"""
WITH days AS ({WHOLE_DAYS})
SELECT month, factor, sum(n)::bigint AS n FROM (
    SELECT date_trunc('month', d.day)::date AS month, d.factor, d.setbacks AS n
    FROM read.setback_factor_days d, days
    WHERE d.day >= days.first_day AND d.day < days.end_day AND ($3::text IS NULL OR d.service = $3)
    UNION ALL
    SELECT date_trunc('month', s.occurred_at AT TIME ZONE 'UTC')::date, f, 1
    FROM read.setbacks s, unnest(s.contributing_factors) f
    WHERE {at_the_edges("s")}
      AND ($3::text IS NULL OR s.service = $3) AND s.service IS NOT NULL
) counted
GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2
"""

# Whole UTC days from the per-day summary (read.strategy_days), the part days at either end from
# the introductions; the mean change is their summed change over those with ratings on both sides.
_STRATEGIES = f"""
WITH days AS ({WHOLE_DAYS})
SELECT strategy, sum(n)::bigint AS introductions, sum(w)::bigint AS with_ratings,
       sum(change) / nullif(sum(w), 0) AS mean_change
FROM (
    SELECT d.strategy, d.introductions AS n, d.with_ratings AS w, d.rating_change AS change
    FROM read.strategy_days d, days
    WHERE d.day >= days.first_day AND d.day < days.end_day AND ($3::text IS NULL OR d.service = $3)
    UNION ALL
    SELECT i.strategy, 1, (i.after - i.before IS NOT NULL)::int, round((i.after - i.before)::numeric, 15)
    FROM read.strategy_introductions i
    WHERE {at_the_edges("i")}
      AND ($3::text IS NULL OR i.service = $3) AND i.service IS NOT NULL
) counted
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 25
"""

# Open days from the per-day summary of status changes (read.status_days, see open_spans): F(x), the
# open seconds of every case up to x, is x times the open cases then less the summed moments of the
# changes before x; a month's open seconds are F at its end less F at its start, both cut at now (an
# open case's days run to now, not beyond). Whole days before x come from the summary, the part day
# up to x from the status rows. Counting the open spans instead read every status row of the service.
_F_AT = """
    SELECT p.x, p.x_epoch * sum(v.change) - sum(v.moment) AS f FROM points p
    CROSS JOIN LATERAL (
        SELECT d.change, d.moment FROM read.status_days d
        WHERE d.day < p.x_day AND ($3::text IS NULL OR d.service = $3)
        UNION ALL
        SELECT s.open_change, s.open_change * extract(epoch FROM s.occurred_at) FROM read.case_status s
        WHERE s.occurred_at >= p.x_day::timestamp AT TIME ZONE 'UTC' AND s.occurred_at < p.x
          AND s.open_change <> 0 AND s.service IS NOT NULL AND ($3::text IS NULL OR s.service = $3)
    ) v
    GROUP BY p.x, p.x_epoch
"""
_OPEN_DAYS = f"""
WITH months AS (
    SELECT generate_series(date_trunc('month', $1::timestamptz), $2::timestamptz - interval '1 second',
                           interval '1 month') AS month
), bounds AS (
    SELECT month, least(greatest(month, $1), $4) AS lo, least(month + interval '1 month', $2, $4) AS hi
    FROM months
), points AS (
    SELECT x, extract(epoch FROM x) AS x_epoch, (x AT TIME ZONE 'UTC')::date AS x_day
    FROM (SELECT lo FROM bounds UNION SELECT hi FROM bounds) b(x)
), f AS ({_F_AT}
), open_days AS (
    SELECT b.month, greatest(coalesce(hi.f, 0) - coalesce(lo.f, 0), 0) / 86400 AS days
    FROM bounds b LEFT JOIN f lo ON lo.x = b.lo LEFT JOIN f hi ON hi.x = b.hi
), days AS ({WHOLE_DAYS}
), escalations AS (
    SELECT month, sum(n) AS n FROM (
        SELECT date_trunc('month', d.day) AS month, d.escalations AS n
        FROM read.escalation_days d, days
        WHERE d.day >= days.first_day AND d.day < days.end_day AND ($3::text IS NULL OR d.service = $3)
        UNION ALL
        SELECT date_trunc('month', e.occurred_at AT TIME ZONE 'UTC'), 1
        FROM read.escalations e
        WHERE {at_the_edges("e")}
          AND ($3::text IS NULL OR e.service = $3) AND e.service IS NOT NULL
    ) counted
    GROUP BY 1
)
SELECT m.month::date AS month, coalesce(e.n, 0)::bigint AS escalations,
       coalesce(o.days, 0)::float8 AS open_days
FROM months m LEFT JOIN open_days o ON o.month = m.month LEFT JOIN escalations e ON e.month = m.month
ORDER BY 1
"""


async def service_learning(
    pool: asyncpg.Pool, query: ServiceQuery, now: datetime, *, with_strategies: bool
) -> ServiceLearning:
    """Service-level learning for the period. Strategy names are clinicians' own words, so they are
    left out (None) for roles that must not see free text. The four parts are independent queries,
    run at once on connections from the pool."""
    args = (query.start, query.end, query.service)
    factors, strategies, rates, improvement = await asyncio.gather(
        pool.fetch(_FACTORS, *args),
        pool.fetch(_STRATEGIES, *args) if with_strategies else _nothing(),
        escalation_rates(pool, query, now),
        pool.fetch(CHANGES, *args),
    )
    return ServiceLearning(
        contributing_factors=_ranked(factors),
        contributing_factors_by_month=_by_month(factors),
        strategies=None if strategies is None else [_strategy(r) for r in strategies],
        escalations_per_1000_open_days=rates,
        reliable_improvement=improvement_shares(improvement),
    )


async def _nothing() -> None:
    return None


def _strategy(r: asyncpg.Record) -> StrategyEffect:
    change = r["mean_change"]
    return StrategyEffect(
        r["strategy"],
        r["introductions"],
        r["with_ratings"],
        None if change is None else round(float(change), 3),
    )


async def escalation_rates(
    conn: Reader | asyncpg.Pool, query: ServiceQuery, now: datetime
) -> list[MonthRate]:
    """Escalations per 1,000 open days, month by month."""
    rows = await conn.fetch(_OPEN_DAYS, query.start, query.end, query.service, now)
    return [
        MonthRate(
            r["month"],
            r["escalations"],
            round(float(r["open_days"]), 1),
            round(r["escalations"] / float(r["open_days"]) * 1000, 3) if r["open_days"] else None,
        )
        for r in rows
    ]


def _ranked(rows: Sequence[asyncpg.Record]) -> list[FactorCount]:
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["factor"]] = totals.get(row["factor"], 0) + row["n"]
    return [FactorCount(f, n) for f, n in sorted(totals.items(), key=lambda item: (-item[1], item[0]))]


def _by_month(rows: Sequence[asyncpg.Record]) -> list[FactorsInMonth]:
    months: dict[date, list[FactorCount]] = {}
    for row in rows:
        months.setdefault(row["month"], []).append(FactorCount(row["factor"], row["n"]))
    return [FactorsInMonth(month, ranked) for month, ranked in months.items()]


async def spc(
    conn: Reader,
    metric: SpcMetric,
    query: ServiceQuery,
    now: datetime,
    rebase_at: Sequence[date],
    *,
    screen: bool = True,
) -> XmRChart:
    """An XmR chart of a monthly service metric, rebased at known service changes; ``screen`` leaves
    large moving ranges out of the limits (NHSRplotthedots' default)."""
    if metric == "escalations-per-1000-open-days":
        points = [
            (r.month.isoformat(), r.per_1000_open_days) for r in await escalation_rates(conn, query, now)
        ]
    else:
        shares = _REVIEW_SHARES.format(led_to=_LED_TO[metric])
        rows = await conn.fetch(shares, query.start, query.end, query.service)
        points = [(r["month"].isoformat(), r["share"]) for r in rows]
    values = [(label, float(value)) for label, value in points if value is not None]
    return xmr(values, rebase_at=[d.isoformat() for d in rebase_at], screen=screen)


_LED_TO = {"reviews-leading-to-change": "changed", "reviews-leading-to-action": "actioned"}
"""The derived column of read.reviews each review metric is the monthly share of."""
# Whole UTC days from the per-day summary (read.review_days), the part days at either end of the
# period from the reviews, as review impact counts them: at 10M events the shares of every service
# read the whole year's reviews (1.2 s a chart, twice in a report), the summary a few thousand rows.
_REVIEW_SHARES = f"""
WITH days AS ({WHOLE_DAYS})
SELECT month, sum(CASE WHEN led THEN n ELSE 0 END)::numeric / sum(n) AS share FROM (
    SELECT date_trunc('month', s.day)::date AS month, s.{{led_to}} AS led, s.reviews AS n
    FROM read.review_days s, days
    WHERE s.day >= days.first_day AND s.day < days.end_day AND ($3::text IS NULL OR s.service = $3)
    UNION ALL
    SELECT date_trunc('month', r.occurred_at AT TIME ZONE 'UTC')::date, r.{{led_to}}, 1
    FROM read.reviews r
    WHERE {at_the_edges("r")}
      AND ($3::text IS NULL OR r.service = $3) AND r.service IS NOT NULL
) counted
GROUP BY 1 ORDER BY 1
"""
