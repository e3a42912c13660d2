"""Values derived from other rows, kept where the question reads them.

Each review row holds its service, when a plan decision first named it, and whether any of those
decisions changed the plan: governance asks "which reviews led to action, and how fast" of every
review in a period, and one indexed table answers it in milliseconds where joining the decisions for
each review took hundreds. Each strategy introduction holds the mean domain rating in the 90 days
before and after it, for "which strategies help" (two seconds per request when computed per query
on a million events)."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from projections.models.base import Statement

__all__ = ["derive_all_outcomes", "derive_outcomes"]


def derive_outcomes(
    schema: str, reviews: Collection[UUID], cases: Collection[UUID], strategy_cases: Collection[UUID]
) -> list[Statement]:
    """Refresh the given reviews, every review of the given cases (after a correction), and the
    strategy introductions of ``strategy_cases``."""
    statements = []
    if reviews:
        where = "r.entry_id = ANY($1::uuid[])"
        statements.append(Statement(_DERIVE.format(s=schema, which=where), (list(reviews),)))
    if cases:
        where = "r.case_id = ANY($1::uuid[])"
        statements.append(Statement(_DERIVE.format(s=schema, which=where), (list(cases),)))
    if strategy_cases:
        statements.append(Statement(_STRATEGIES.format(s=schema), (list(strategy_cases),)))
    return statements


def derive_all_outcomes(schema: str) -> list[Statement]:
    """Fill every review at once, after a bulk load."""
    return [Statement(_DERIVE_ALL.format(s=schema), ()), Statement(_STRATEGIES_ALL.format(s=schema), ())]


_DERIVE = """
UPDATE {s}.reviews r SET
    service = (SELECT c.service FROM {s}.cases c WHERE c.case_id = r.case_id LIMIT 1),
    (first_decided_at, changed) = (
        SELECT min(dc.decided_at), coalesce(bool_or(dc.decision_kind = 'plan_changed'), false)
        FROM {s}.decision_causes dc WHERE dc.cause_id = r.entry_id)
WHERE {which}
"""

# The same for every review at once, by hash joins, for a bulk load that has no indexes yet.
_DERIVE_ALL = """
UPDATE {s}.reviews r SET service = x.service, first_decided_at = x.first_decided_at, changed = x.changed
FROM (
    SELECT r2.entry_id, c.service, o.first_decided_at, coalesce(o.changed, false) AS changed
    FROM {s}.reviews r2
    JOIN {s}.cases c ON c.case_id = r2.case_id
    LEFT JOIN (
        SELECT cause_id, min(decided_at) AS first_decided_at,
               bool_or(decision_kind = 'plan_changed') AS changed
        FROM {s}.decision_causes GROUP BY cause_id
    ) o ON o.cause_id = r2.entry_id
) x
WHERE r.entry_id = x.entry_id
"""

_MEAN = "sum(r.rating_sum)::float8 / nullif(sum(r.rating_count), 0)"
_STRATEGIES = f"""
UPDATE {{s}}.strategy_introductions i SET
    service = (SELECT c.service FROM {{s}}.cases c WHERE c.case_id = i.case_id LIMIT 1),
    before = (SELECT {_MEAN} FROM {{s}}.reviews r WHERE r.case_id = i.case_id
              AND r.occurred_at >= i.occurred_at - interval '90 days' AND r.occurred_at < i.occurred_at),
    after = (SELECT {_MEAN} FROM {{s}}.reviews r WHERE r.case_id = i.case_id
             AND r.occurred_at >= i.occurred_at AND r.occurred_at < i.occurred_at + interval '90 days')
WHERE i.case_id = ANY($1::uuid[])
"""

_STRATEGIES_ALL = """
UPDATE {s}.strategy_introductions i SET service = x.service, before = x.before, after = x.after
FROM (
    SELECT i2.entry_id, i2.strategy, c.service,
           sum(r.rating_sum) FILTER (WHERE r.occurred_at < i2.occurred_at)::float8
               / nullif(sum(r.rating_count) FILTER (WHERE r.occurred_at < i2.occurred_at), 0) AS before,
           sum(r.rating_sum) FILTER (WHERE r.occurred_at >= i2.occurred_at)::float8
               / nullif(sum(r.rating_count) FILTER (WHERE r.occurred_at >= i2.occurred_at), 0) AS after
    FROM {s}.strategy_introductions i2
    JOIN {s}.cases c ON c.case_id = i2.case_id
    LEFT JOIN {s}.reviews r ON r.case_id = i2.case_id
        AND r.occurred_at >= i2.occurred_at - interval '90 days'
        AND r.occurred_at < i2.occurred_at + interval '90 days'
    GROUP BY i2.entry_id, i2.strategy, c.service
) x
WHERE i.entry_id = x.entry_id AND i.strategy = x.strategy
"""
