"""Values derived from other rows, kept where the question reads them.

Each review row holds its service, when a plan decision first named it, whether it led to change
(a plan change named it within 28 days) and whether it led to action (a plan change or a "no
change, because ..." confirmation named it within 28 days): governance asks "which reviews led to
action, and how fast" of every
review in a period, and one indexed table answers it in milliseconds where joining the decisions for
each review took hundreds. Each strategy introduction holds the mean domain rating in the 90 days
before and after it, for "which strategies help" (two seconds per request when computed per query
on a million events)."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from projections.models.base import Statement

__all__ = ["ACTION_WITHIN_DAYS", "derive_all_outcomes", "derive_outcomes"]

ACTION_WITHIN_DAYS = 28
"""A review leads to action (or change) when a decision names it within this many days of it."""
_WITHIN = f"interval '{ACTION_WITHIN_DAYS} days'"


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


def derive_all_outcomes(schema: str) -> list[list[Statement]]:
    """Fill every review and strategy introduction after a bulk load: two independent transactions.

    Each table is written anew with its derived values and swapped in: updating every row in place
    would write each row twice and leave as many dead versions (measured: 9.6 s of a care rebuild).
    The strategies read only the reviews' ratings, which the reviews' fill copies unchanged."""
    return [
        [Statement(sql.format(s=schema, table=table), ()) for sql in (_FRESH, fill, _SWAP_DROP, _SWAP_RENAME)]
        for table, fill in (("strategy_introductions", _STRATEGIES_FILLED), ("reviews", _REVIEWS_FILLED))
    ]


# When a decision first named each review, and when a plan change first did: a review led to
# action (change) when the first decision (plan change) is at most 28 days after it.
_FIRST = """
min(dc.decided_at) AS first_decided_at,
min(dc.decided_at) FILTER (WHERE dc.decision_kind = 'plan_changed') AS first_changed_at
"""
_LED_TO = f"""
    coalesce(o.first_changed_at <= r.occurred_at + {_WITHIN}, false),
    coalesce(o.first_decided_at <= r.occurred_at + {_WITHIN}, false)
"""

_DERIVE = f"""
UPDATE {{s}}.reviews r SET
    service = (SELECT c.service FROM {{s}}.cases c WHERE c.case_id = r.case_id LIMIT 1),
    (first_decided_at, changed, actioned) = (
        SELECT o.first_decided_at, {_LED_TO}
        FROM (SELECT {_FIRST} FROM {{s}}.decision_causes dc WHERE dc.cause_id = r.entry_id) o)
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
       c.service, o.first_decided_at, {_LED_TO}
FROM {{s}}.reviews r
LEFT JOIN {_SERVICES} c ON c.case_id = r.case_id
LEFT JOIN (
    SELECT dc.cause_id, {_FIRST} FROM {{s}}.decision_causes dc GROUP BY dc.cause_id
) o ON o.cause_id = r.entry_id
"""

# Running sums over each case's reviews and introductions in time order (RANGE frames with offsets
# give [t - 90 days, t) and [t, t + 90 days) exactly as _STRATEGIES's bounds): 2.2 s on 1M events,
# where joining every introduction to every review of its case and grouping took 5.2.
_DAYS_90, _TICK = "interval '90 days'", "interval '1 microsecond'"
_STRATEGIES_FILLED = f"""
INSERT INTO {{s}}.strategy_introductions_filled
SELECT w.entry_id, w.corrected, w.case_id, w.occurred_at, w.strategy, c.service,
       w.before_sum::float8 / nullif(w.before_count, 0), w.after_sum::float8 / nullif(w.after_count, 0)
FROM (
    SELECT t.*,
           sum(t.rating_sum) OVER before AS before_sum, sum(t.rating_count) OVER before AS before_count,
           sum(t.rating_sum) OVER after AS after_sum, sum(t.rating_count) OVER after AS after_count
    FROM (
        SELECT NULL::uuid AS entry_id, NULL::boolean AS corrected, case_id, occurred_at,
               NULL::text AS strategy, rating_sum, rating_count
        FROM {{s}}.reviews
        UNION ALL
        SELECT entry_id, corrected, case_id, occurred_at, strategy, NULL, NULL
        FROM {{s}}.strategy_introductions
    ) t
    WINDOW by_time AS (PARTITION BY t.case_id ORDER BY t.occurred_at),
        before AS (by_time RANGE BETWEEN {_DAYS_90} PRECEDING AND {_TICK} PRECEDING),
        after AS (by_time RANGE BETWEEN CURRENT ROW AND {_DAYS_90} - {_TICK} FOLLOWING)
) w
LEFT JOIN {_SERVICES} c ON c.case_id = w.case_id
WHERE w.strategy IS NOT NULL
"""
