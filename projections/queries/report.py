"""The commissioner report: outcomes per instrument and domain, escalations and reviews leading to
action as SPC charts against the period before, what delivery did, the context, and the outcome stories
whose consent stands. Every figure comes from the queries behind the service-level API routes, then
through small-number suppression (``projections.report_tables``)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg
import msgspec

from projections.queries.impact import ImpactQuery, ReviewImpact, review_impact
from projections.queries.report_context import CaseMix, SharedStory, case_mix, shared_stories
from projections.queries.report_outcomes import OutcomeCounts, outcome_tables
from projections.queries.report_stalled import StalledCounts, what_followed
from projections.queries.service import ServiceQuery, SpcMetric, spc
from projections.report_tables import (
    ContextRow,
    DeliveryMonth,
    PublishedOutcome,
    ReportChart,
    StalledDelivery,
    chart,
    context_rows,
    delivery_month,
    outcome,
    stalled,
)
from projections.spc import XmRChart
from projections.suppression import Published, published_count

__all__ = ["METHODS", "ServiceReport", "service_report"]

METHODS = {
    "reliable_change": (
        "Jacobson & Truax: each person's first and latest reading of an instrument in the period; a "
        "change at least the instrument's reliable-change threshold (projections/thresholds.json, "
        "stored with every reading) is reliable; recovered is reliable improvement that crossed the "
        "clinical cut-off out of the clinical range. Two readings or more are needed."
    ),
    "by_domain": (
        "Per outcome domain, each person counts once, by the instrument recorded against that domain "
        "with a reliable-change threshold and the most readings."
    ),
    "spc": (
        "XmR charts by month (NHS 'Making Data Count'): limits are mean +/- 2.66 x the mean moving "
        "range, leaving out moving ranges at or above 3.267 x their mean (NHSRplotthedots). Special "
        "cause: a point beyond the limits, 7 on one side of the mean, 7 rising or falling, or 2 of 3 "
        "in the outer third. Fewer than 12 points: limits are unsteady. The variation icon is the "
        "latest month's."
    ),
    "delivery": (
        "A review leads to change when a plan change names it within 28 days, and to action when a "
        "plan change or a 'no change, because ...' confirmation does."
    ),
    "when_outcomes_stalled": (
        "People whose first and latest readings of an instrument in the period showed no reliable "
        "change or reliable deterioration; what followed the reading that showed it (a plan change, "
        "else a confirmation, up to now) and the median days to the first such decision."
    ),
    "suppression": (
        "Counts of 1 to 4 people show as '<5'. Where a row's total is shown, the smallest other counts "
        "are hidden as '*' until no hidden count can be worked out. Charts and shares resting on "
        "fewer than 5 people, or on a hidden count, are not shown."
    ),
    "stories": (
        "Stories agreed with the person for sharing, de-identified by their author, whose consent had "
        "not been withdrawn when this report was made."
    ),
}


class ServiceReport(msgspec.Struct, frozen=True):
    """The commissioner report for a period and a service (or all), as published."""

    service: str | None
    start: datetime
    end: datetime
    previous_start: datetime
    generated_at: datetime
    people: Published
    outcomes_by_instrument: list[PublishedOutcome]
    outcomes_by_domain: list[PublishedOutcome]
    charts: list[ReportChart]
    delivery: list[DeliveryMonth]
    no_decision_after_28_days: Published
    changes_without_cause: Published
    when_outcomes_stalled: StalledDelivery
    case_mix: list[ContextRow]
    stories: list[SharedStory] | None
    methods: dict[str, str] = msgspec.field(default_factory=lambda: dict(METHODS))


_CHARTS: tuple[tuple[SpcMetric, bool], ...] = (
    ("escalations-per-1000-open-days", False),
    ("reviews-leading-to-action", True),
)


async def service_report(
    pool: asyncpg.Pool, query: ServiceQuery, now: datetime, *, with_stories: bool
) -> ServiceReport:
    """The report; stories (free text, agreed for sharing) are left out (None) unless ``with_stories``."""
    before = ServiceQuery(query.start - (query.end - query.start), query.start, query.service)
    (by_instrument, by_domain, followed), mix, mix_before, charts, impact, stories = await asyncio.gather(
        _outcomes(pool, query),
        case_mix(pool, query, now),
        case_mix(pool, before, now),
        _charts(pool, query, before, now),
        _impact(pool, query, now),
        shared_stories(pool, query) if with_stories else _none(),
    )
    return ServiceReport(
        service=query.service,
        start=query.start,
        end=query.end,
        previous_start=before.start,
        generated_at=now,
        people=published_count(mix.people),
        outcomes_by_instrument=[outcome(row) for row in by_instrument],
        outcomes_by_domain=[outcome(row) for row in by_domain],
        charts=[
            chart(metric, higher, _people(metric, mix, mix_before), drawn)
            for (metric, higher), drawn in zip(_CHARTS, charts, strict=True)
        ],
        delivery=[delivery_month(m) for m in impact.by_service_month],
        no_decision_after_28_days=published_count(impact.no_decision_after_28_days_total),
        changes_without_cause=published_count(impact.changes_without_cause_total),
        when_outcomes_stalled=stalled(followed),
        case_mix=context_rows(mix),
        stories=stories,
    )


def _people(metric: SpcMetric, now: CaseMix, before: CaseMix) -> tuple[int, int]:
    """The people behind a chart: those open in the period, or those reviewed in it."""
    if metric == "escalations-per-1000-open-days":
        return now.people, before.people
    return now.reviewed, before.reviewed


async def _charts(
    pool: asyncpg.Pool, query: ServiceQuery, before: ServiceQuery, now: datetime
) -> list[tuple[XmRChart, XmRChart]]:
    """Each chart of this period and the last on a connection of its own: four independent queries,
    the open days of every service the costliest (run one after another, most of a report's time)."""

    async def drawn(metric: SpcMetric, period: ServiceQuery) -> XmRChart:
        async with pool.acquire() as conn:
            return await spc(conn, metric, period, now, [])

    charts = await asyncio.gather(*(drawn(m, period) for m, _ in _CHARTS for period in (query, before)))
    return [(charts[i], charts[i + 1]) for i in range(0, len(charts), 2)]


async def _outcomes(
    pool: asyncpg.Pool, query: ServiceQuery
) -> tuple[list[OutcomeCounts], list[OutcomeCounts], StalledCounts]:
    """The outcome tables, then what followed the stalls they show: chained here, so the second
    query runs beside the report's other parts instead of after all of them."""
    by_instrument, by_domain, stalls = await outcome_tables(pool, query)
    return by_instrument, by_domain, await what_followed(pool, stalls)


async def _impact(pool: asyncpg.Pool, query: ServiceQuery, now: datetime) -> ReviewImpact:
    async with pool.acquire() as conn:
        return await review_impact(conn, ImpactQuery(query.start, query.end, query.service, limit=1), now)


async def _none() -> None:
    return None
