"""The care model's summaries: counts per service and UTC day kept beside its tables by triggers
(``projections.summaries``), so a year of a large service reads a few thousand rows."""

from __future__ import annotations

from projections.summaries import Summary

Counted = tuple[tuple[str, str, str], ...]
"""Columns as (name, SQL type, the SQL expression over a source row ``r`` giving its value)."""


def _per_service_day(
    name: str, source: str, counts: Counted, *, by: Counted = (), where: str = "", lateral: str = ""
) -> Summary:
    """Counts of a source table's rows per service and UTC day of ``occurred_at`` (and ``by``); rows
    count once their service is derived."""
    day = (("service", "text", "r.service"), ("day", "date", "(r.occurred_at AT TIME ZONE 'UTC')::date"))
    columns = (*day, *by, *counts)
    return Summary(
        name=name,
        source=source,
        columns=tuple((column, kind) for column, kind, _ in columns),
        key=tuple(column for column, _, _ in (*day, *by)),
        select=tuple(expression for _, _, expression in columns),
        where=" AND ".join(filter(None, ("r.service IS NOT NULL", where))),
        lateral=lateral,
    )


__all__ = [
    "ESCALATION_DAYS",
    "REVIEW_DAYS",
    "SETBACK_FACTOR_DAYS",
    "STATUS_DAYS",
    "STRATEGY_DAYS",
    "SUMMARIES",
]

REVIEW_DAYS = _per_service_day(
    "review_days",
    "reviews",
    by=(
        ("changed", "boolean", "r.changed"),
        ("actioned", "boolean", "r.actioned"),
        ("decided", "boolean", "r.first_decided_at IS NOT NULL"),
        (
            "tenths",
            "integer",
            "coalesce((date_part('epoch', r.first_decided_at - r.occurred_at) / 8640)::int, 0)",
        ),
    ),
    counts=(("reviews", "bigint", "1"),),
)
"""Reviews per service and UTC day, by what they led to and the days to the first decision (to the
0.1 day review impact shows): a year of a service's monthly shares and medians is summed from a few
thousand rows, where counting the reviews read every one of the year's (review impact,
``projections/queries/impact.py``)."""

STATUS_DAYS = _per_service_day(
    "status_days",
    "case_status",
    counts=(
        ("rows", "bigint", "1"),
        ("change", "bigint", "r.open_change"),
        ("moment", "numeric(30, 6)", "r.open_change * extract(epoch FROM r.occurred_at)"),
    ),
    where="r.open_change <> 0",
)
"""Per service and UTC day: the net change in open cases and the sum of each change times its moment
(seconds since the epoch, exact): open days in a period from these (``projections/models/open_spans.py``)."""

ESCALATION_DAYS = _per_service_day("escalation_days", "escalations", counts=(("escalations", "bigint", "1"),))
"""Escalations per service and UTC day, for escalations per 1,000 open days by month."""

SETBACK_FACTOR_DAYS = _per_service_day(
    "setback_factor_days",
    "setbacks",
    by=(("factor", "text", "f.factor"),),
    counts=(("setbacks", "bigint", "1"),),
    lateral=", unnest(r.contributing_factors) f(factor)",
)
"""Setbacks per service, UTC day and contributing factor (a setback counts once under each factor it
names), for service learning's common barriers by month."""

# The summed change is numeric, so the sum taken away when a row's ratings are derived again is the
# sum added: a double precision sum kept up and down by triggers would drift from the rows' own.
STRATEGY_DAYS = _per_service_day(
    "strategy_days",
    "strategy_introductions",
    by=(("strategy", "text", "r.strategy"),),
    counts=(
        ("introductions", "bigint", "1"),
        ("with_ratings", "bigint", "(r.after - r.before IS NOT NULL)::int"),
        ("rating_change", "numeric(30, 15)", "coalesce((r.after - r.before)::numeric, 0)"),
    ),
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
