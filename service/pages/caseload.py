"""The caseload: the signed-in clinician's cases (care team membership), searchable by person
reference, with when each was last reviewed and is next due, direction per domain, open escalations
and reviews still waiting for a decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from events.values import Role
from projections.queries.actions import ActionScope, action_items
from projections.queries.caseload import CaseloadRow, caseload
from projections.queries.trajectory import trajectory
from service.http.reading import ReadPools
from service.pages.web import Pages, actor_of, render

__all__ = ["CASELOAD_ROUTES", "LABEL_TAGS"]

LONGEST_CASELOAD = 50
LABEL_TAGS = {
    "reliable improvement": "nhsuk-tag--green",
    "reliable deterioration": "nhsuk-tag--red",
    "stable": "nhsuk-tag--blue",
    "fluctuating": "nhsuk-tag--orange",
    "insufficient data": "nhsuk-tag--grey",
}
"""The colour of each trajectory label's badge; the label's words are always shown too."""

Search = Annotated[str | None, QueryParameter(max_length=200, description="Part of a person reference")]


@dataclass(frozen=True)
class CaseloadLine:
    """A case on the caseload with what the page shows about it."""

    case: CaseloadRow
    next_due: date
    overdue: bool
    directions: list[tuple[str, str]]
    """(domain, trajectory label) for each domain with readings."""


@get("/")
async def caseload_page(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    reads: NamedDependency[ReadPools],
    q: FromQuery[Search] = None,
) -> Template:
    """The signed-in user's caseload (governance: every case matching the search)."""
    actor = actor_of(request, pages)
    member = None if actor.role is Role.GOVERNANCE else actor.id
    now = datetime.now(UTC)
    interval = timedelta(days=pages.settings.review_interval_days)
    async with reads.person() as conn:
        rows = await caseload(conn, member, search=q, limit=LONGEST_CASELOAD)
        lines = []
        for row in rows:
            # The trajectory labels come from the same query the API's trajectory answers with.
            found = await trajectory(conn, row.case_id, now)
            every = timedelta(weeks=row.review_interval_weeks) if row.review_interval_weeks else interval
            due = (row.last_review.date() if row.last_review else row.opened_on) + every
            directions = [(series.name, series.label) for series in found.domains]
            lines.append(CaseloadLine(row, due, due < now.date(), directions))
        # Governance's action list is on its own page: every case's items would swamp this one.
        scope = ActionScope(care_team_member=member, review_interval_days=pages.settings.review_interval_days)
        actions = [] if member is None else await action_items(conn, scope, now)
    return render(
        request,
        pages,
        "caseload.jinja",
        lines=lines,
        search=q or "",
        tags=LABEL_TAGS,
        limited=len(rows) >= LONGEST_CASELOAD,
        governance=member is None,
        actions=actions,
    )


CASELOAD_ROUTES = [caseload_page]
