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
    if reviews or cases:
        statements.append(Statement(_DERIVE.format(s=schema), (list(reviews), list(cases))))
    if strategy_cases:
        statements.append(Statement(_STRATEGIES.format(s=schema), (list(strategy_cases),)))
    return statements


def derive_all_outcomes(schema: str) -> list[Statement]:
    """Fill every review and strategy introduction at once, after a bulk load (run in one transaction).

    Each table is written anew with its derived values and swapped in: updating every row in place
    would write each row twice and leave as many dead versions (measured: 9.6 s of a care rebuild)."""
    return [
        Statement(sql.format(s=schema, table=table), ())
        for table, fill in (("reviews", _REVIEWS_FILLED), ("strategy_introductions", _STRATEGIES_FILLED))
        for sql in (_FRESH, fill, _SWAP_DROP, _SWAP_RENAME)
    ]


_DERIVE = """
UPDATE {s}.reviews r SET
    service = (SELECT c.service FROM {s}.cases c WHERE c.case_id = r.case_id LIMIT 1),
    (first_decided_at, changed) = (
        SELECT min(dc.decided_at), coalesce(bool_or(dc.decision_kind = 'plan_changed'), false)
        FROM {s}.decision_causes dc WHERE dc.cause_id = r.entry_id)
WHERE r.entry_id = ANY($1::uuid[]) OR r.case_id = ANY($2::uuid[])
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

_FRESH = "CREATE TABLE {s}.{table}_filled (LIKE {s}.{table} INCLUDING DEFAULTS)"
_SWAP_DROP = "DROP TABLE {s}.{table}"
_SWAP_RENAME = "ALTER TABLE {s}.{table}_filled RENAME TO {table}"
_SERVICES = "(SELECT DISTINCT ON (case_id) case_id, service FROM {s}.cases)"

_REVIEWS_FILLED = f"""
INSERT INTO {{s}}.reviews_filled
SELECT r.entry_id, r.corrected, r.case_id, r.occurred_at, r.kind, r.actor_id, r.rating_sum, r.rating_count,
       c.service, o.first_decided_at, coalesce(o.changed, false)
FROM {{s}}.reviews r
LEFT JOIN {_SERVICES} c ON c.case_id = r.case_id
LEFT JOIN (
    SELECT cause_id, min(decided_at) AS first_decided_at, bool_or(decision_kind = 'plan_changed') AS changed
    FROM {{s}}.decision_causes GROUP BY cause_id
) o ON o.cause_id = r.entry_id
"""

_STRATEGIES_FILLED = f"""
INSERT INTO {{s}}.strategy_introductions_filled
SELECT i.entry_id, i.corrected, i.case_id, i.occurred_at, i.strategy, c.service,
       sum(r.rating_sum) FILTER (WHERE r.occurred_at < i.occurred_at)::float8
           / nullif(sum(r.rating_count) FILTER (WHERE r.occurred_at < i.occurred_at), 0),
       sum(r.rating_sum) FILTER (WHERE r.occurred_at >= i.occurred_at)::float8
           / nullif(sum(r.rating_count) FILTER (WHERE r.occurred_at >= i.occurred_at), 0)
FROM {{s}}.strategy_introductions i
LEFT JOIN {_SERVICES} c ON c.case_id = i.case_id
LEFT JOIN {{s}}.reviews r ON r.case_id = i.case_id
    AND r.occurred_at >= i.occurred_at - interval '90 days'
    AND r.occurred_at < i.occurred_at + interval '90 days'
GROUP BY i.entry_id, i.corrected, i.case_id, i.occurred_at, i.strategy, c.service
"""
