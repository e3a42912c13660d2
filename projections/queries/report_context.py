"""The commissioner report's context: who the service worked with in the period (the domains they
chose, how long they had been in the service, setbacks and escalations), and the outcome stories whose
consent stands."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg
import msgspec

from projections.queries import in_period
from projections.queries.service import ServiceQuery

__all__ = ["CaseMix", "SharedStory", "case_mix", "shared_stories"]

# Counted here, not in Python: at 10M events every service's report read a row per person open in
# each of its two periods (340,000 rows, most of the report's memory).
_CASE_MIX = """
WITH spans AS (
    SELECT s.case_id, s.status, s.occurred_at AS since,
           lead(s.occurred_at) OVER (PARTITION BY s.case_id ORDER BY s.occurred_at) AS until
    FROM read.case_status s JOIN read.cases c ON c.case_id = s.case_id
    WHERE ($3::text IS NULL OR c.service = $3)
), open_cases AS (
    SELECT DISTINCT case_id FROM spans
    WHERE status = 'open' AND since < $2 AND (until IS NULL OR until > $1)
), mix AS MATERIALIZED (
    SELECT c.domains, $4::date - c.opened_on AS days,
        EXISTS (SELECT 1 FROM read.setbacks x WHERE x.case_id = c.case_id
                AND x.occurred_at >= $1 AND x.occurred_at < $2) AS had_setback,
        EXISTS (SELECT 1 FROM read.escalations x WHERE x.case_id = c.case_id
                AND x.occurred_at >= $1 AND x.occurred_at < $2) AS had_escalation,
        EXISTS (SELECT 1 FROM read.reviews x WHERE x.case_id = c.case_id
                AND x.occurred_at >= $1 AND x.occurred_at < $2) AS reviewed
    FROM open_cases o JOIN read.cases c ON c.case_id = o.case_id
), chosen AS (
    SELECT d AS domain, count(*) AS people FROM mix, unnest(mix.domains) d GROUP BY 1
)
SELECT count(*) AS people, count(*) FILTER (WHERE reviewed) AS reviewed,
    count(*) FILTER (WHERE had_setback) AS with_setbacks,
    count(*) FILTER (WHERE had_escalation) AS with_escalations,
    ARRAY[count(*) FILTER (WHERE days < $5), count(*) FILTER (WHERE days >= $5 AND days <= $6),
          count(*) FILTER (WHERE days > $6)] AS bands,
    (SELECT array_agg(domain ORDER BY domain) FROM chosen) AS domains,
    (SELECT array_agg(people ORDER BY domain) FROM chosen) AS chosen_by
FROM mix
"""

TIME_IN_SERVICE = ("under 3 months", "3 to 12 months", "over 12 months")
_BAND_DAYS = (91, 365)
"""Under 91 days in the service, 91 to 365, over 365."""


class CaseMix(msgspec.Struct, frozen=True):
    """People whose case was open at some time in the period, and how they divide."""

    people: int
    reviewed: int
    domains_chosen: dict[str, int]
    time_in_service: dict[str, int]
    with_setbacks: int
    with_escalations: int


async def case_mix(pool: asyncpg.Pool, query: ServiceQuery, now: datetime) -> CaseMix:
    """Time in service runs from the day the case opened to the end of the period (or today)."""
    until = min(query.end, now).date()
    (r,) = await pool.fetch(_CASE_MIX, query.start, query.end, query.service, until, *_BAND_DAYS)
    return CaseMix(
        people=r["people"],
        reviewed=r["reviewed"],
        domains_chosen=dict(zip(r["domains"] or [], r["chosen_by"] or [], strict=True)),
        time_in_service=dict(zip(TIME_IN_SERVICE, r["bands"], strict=True)),
        with_setbacks=r["with_setbacks"],
        with_escalations=r["with_escalations"],
    )


class SharedStory(msgspec.Struct, frozen=True):
    """A story agreed for sharing in the period, in the person's words, de-identified by its author."""

    agreed_on: date
    domains: list[str]
    story: str


_STORIES = f"""
SELECT s.occurred_at, s.domains, s.story
FROM read.stories s JOIN read.cases c ON c.case_id = s.case_id
WHERE {in_period("s", "c")}
  AND NOT EXISTS (SELECT 1 FROM read.story_withdrawals w WHERE w.story_id = s.entry_id)
  -- An entry of the case the care model could not apply may be a withdrawal: leave its stories out.
  AND NOT EXISTS (SELECT 1 FROM read.unprojected_entries p
                  WHERE p.projection = 'care' AND p.case_id = s.case_id)
ORDER BY s.occurred_at, s.entry_id
"""


async def shared_stories(pool: asyncpg.Pool, query: ServiceQuery) -> list[SharedStory]:
    """Stories agreed in the period whose consent stands: no withdrawal names them."""
    rows = await pool.fetch(_STORIES, query.start, query.end, query.service)
    return [SharedStory(r["occurred_at"].date(), list(r["domains"]), r["story"]) for r in rows]
