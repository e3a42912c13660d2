"""A clinician's caseload: the open and closed cases whose care team includes them, with when each was
last reviewed, reviews still waiting for a decision and escalations still open."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from projections.queries import Reader

__all__ = ["CaseloadRow", "caseload"]


class CaseloadRow(msgspec.Struct, frozen=True):
    """One case on a caseload."""

    case_id: UUID
    person_ref: str
    service: str
    opened_on: date
    domains: list[str]
    status: str
    last_review: datetime | None
    reviews_without_decision: int
    open_escalations: int
    review_interval_weeks: int | None = None
    """Set by the latest plan change that set one; None: the service's default."""


_CASELOAD = """
WITH teams AS (
    SELECT DISTINCT ON (case_id) case_id, members FROM read.care_teams ORDER BY case_id, version DESC
)
SELECT c.case_id, c.person_ref, c.service, c.opened_on, c.domains,
       coalesce((SELECT s.status FROM read.case_status s WHERE s.case_id = c.case_id
                  ORDER BY s.occurred_at DESC LIMIT 1), 'open') AS status,
       (SELECT max(r.occurred_at) FROM read.reviews r WHERE r.case_id = c.case_id) AS last_review,
       (SELECT count(*) FROM read.reviews r
         WHERE r.case_id = c.case_id AND r.first_decided_at IS NULL) AS reviews_without_decision,
       (SELECT count(*) FROM read.escalations e
         WHERE e.case_id = c.case_id AND NOT EXISTS (
               SELECT 1 FROM read.escalation_resolutions x WHERE x.escalation_id = e.entry_id)
       ) AS open_escalations,
       (SELECT d.review_interval_weeks FROM read.decisions d
         WHERE d.case_id = c.case_id AND d.review_interval_weeks IS NOT NULL
         ORDER BY d.occurred_at DESC LIMIT 1) AS review_interval_weeks
  FROM teams JOIN read.cases c USING (case_id)
 WHERE ($1::text IS NULL OR $1 = ANY(teams.members))
   AND ($2::text IS NULL OR c.person_ref ILIKE $2 ESCAPE '\\')
 ORDER BY c.person_ref
 LIMIT $3
"""


def _pattern(search: str | None) -> str | None:
    """A person reference search as a LIKE pattern matching anywhere, wildcards typed taken literally."""
    if not search:
        return None
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def caseload(conn: Reader, member: str | None, *, search: str | None, limit: int) -> list[CaseloadRow]:
    """Cases whose care team includes ``member`` (every case when None: governance), by person reference."""
    rows = await conn.fetch(_CASELOAD, member, _pattern(search), limit)
    return [msgspec.convert(dict(row), CaseloadRow) for row in rows]
