"""The care model's summaries: counts per service and UTC day kept beside its tables by triggers
(``projections.summaries``), so a year of a large service reads a few thousand rows."""

from __future__ import annotations

from projections.summaries import Summary

__all__ = [
    "ESCALATION_DAYS",
    "REVIEW_DAYS",
    "SETBACK_FACTOR_DAYS",
    "STATUS_DAYS",
    "STRATEGY_DAYS",
    "SUMMARIES",
]

REVIEW_DAYS = Summary(
    name="review_days",
    source="reviews",
    columns=(
        ("service", "text"),
        ("day", "date"),
        ("changed", "boolean"),
        ("actioned", "boolean"),
        ("decided", "boolean"),
        ("tenths", "integer"),
        ("reviews", "bigint"),
    ),
    key=("service", "day", "changed", "actioned", "decided", "tenths"),
    select=(
        "r.service",
        "(r.occurred_at AT TIME ZONE 'UTC')::date",
        "r.changed",
        "r.actioned",
        "r.first_decided_at IS NOT NULL",
        "coalesce((date_part('epoch', r.first_decided_at - r.occurred_at) / 8640)::int, 0)",
        "1",
    ),
    where="r.service IS NOT NULL",
)
"""Reviews per service and UTC day, by what they led to and the days to the first decision (to the
0.1 day review impact shows): a year of a service's monthly shares and medians is summed from a few
thousand rows, where counting the reviews read every one of the year's (review impact,
``projections/queries/impact.py``). A review counts once its service is derived (after its batch)."""

STATUS_DAYS = Summary(
    name="status_days",
    source="case_status",
    columns=(
        ("service", "text"),
        ("day", "date"),
        ("rows", "bigint"),
        ("change", "bigint"),
        ("moment", "numeric(30, 6)"),
    ),
    key=("service", "day"),
    select=(
        "r.service",
        "(r.occurred_at AT TIME ZONE 'UTC')::date",
        "1",
        "r.open_change",
        "r.open_change * extract(epoch FROM r.occurred_at)",
    ),
    where="r.service IS NOT NULL AND r.open_change <> 0",
)
"""Per service and UTC day: the net change in open cases and the sum of each change times its moment
(seconds since the epoch, exact): open days in a period from these (``projections/models/open_spans.py``)."""

ESCALATION_DAYS = Summary(
    name="escalation_days",
    source="escalations",
    columns=(("service", "text"), ("day", "date"), ("escalations", "bigint")),
    key=("service", "day"),
    select=("r.service", "(r.occurred_at AT TIME ZONE 'UTC')::date", "1"),
    where="r.service IS NOT NULL",
)
"""Escalations per service and UTC day, for escalations per 1,000 open days by month."""

SETBACK_FACTOR_DAYS = Summary(
    name="setback_factor_days",
    source="setbacks",
    columns=(("service", "text"), ("day", "date"), ("factor", "text"), ("setbacks", "bigint")),
    key=("service", "day", "factor"),
    select=("r.service", "(r.occurred_at AT TIME ZONE 'UTC')::date", "f.factor", "1"),
    where="r.service IS NOT NULL",
    lateral=", unnest(r.contributing_factors) f(factor)",
)
"""Setbacks per service, UTC day and contributing factor (a setback counts once under each factor it
names), for service learning's common barriers by month."""

STRATEGY_DAYS = Summary(
    name="strategy_days",
    source="strategy_introductions",
    columns=(
        ("service", "text"),
        ("day", "date"),
        ("strategy", "text"),
        ("introductions", "bigint"),
        ("with_ratings", "bigint"),
        ("rating_change", "numeric(30, 15)"),
    ),
    key=("service", "day", "strategy"),
    select=(
        "r.service",
        "(r.occurred_at AT TIME ZONE 'UTC')::date",
        "r.strategy",
        "1",
        "(r.after - r.before IS NOT NULL)::int",
        # numeric, so the sum taken away when a row's ratings are derived again is the sum added:
        # a double precision sum kept up and down by triggers would drift from the rows' own.
        "coalesce((r.after - r.before)::numeric, 0)",
    ),
    where="r.service IS NOT NULL",
)
"""Strategies introduced per service, UTC day and strategy, with how many had ratings on both sides
and the sum of their change, for service learning's approaches that help: a year of a service sums a
few thousand rows where the introductions are tens of thousands at 1M events."""

SUMMARIES: tuple[Summary, ...] = (
    REVIEW_DAYS,
    STATUS_DAYS,
    ESCALATION_DAYS,
    SETBACK_FACTOR_DAYS,
    STRATEGY_DAYS,
)
