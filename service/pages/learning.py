"""The learning log page: setbacks and escalations, what was learned, and the decisions they led to,
from the same query as ``GET /cases/{id}/learning-log`` (logged as a read of the record)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from projections.queries.learning import learning_log
from service.http.access import PurposeOfUse
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.http.routes.readmodels import read_case, read_consistently
from service.http.views import case_view
from service.pages.purpose import ask_purpose, purpose_needed
from service.pages.web import Pages, actor_of, render
from service.write.application import CaseRecords

__all__ = ["LEARNING_ROUTES"]

SETBACK_LABELS = (
    ("what_happened", "What happened"),
    ("contributing_factors", "Contributing factors"),
    ("factors_detail", "About the factors"),
    ("risk_management", "How risk was managed"),
    ("learning", "What was learned"),
    ("adaptation", "What was adapted"),
)
ESCALATION_LABELS = (
    ("severity", "Severity (1 low to 4 crisis)"),
    ("trigger", "Trigger"),
    ("response", "Response"),
    ("escalation_plan_used_early", "Escalation plan used early"),
    ("resolution", "Resolution"),
    ("days_to_resolution", "Days to resolution"),
)


@get("/cases/{case_id:uuid}/learning-log")
async def learning_page(
    *,
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    records: NamedDependency[CaseRecords],
    reads: NamedDependency[ReadPools],
    positions: NamedDependency[PositionWatcher],
    case_id: FromPath[UUID],
    min_position: FromQuery[Annotated[int | None, QueryParameter(ge=1)]] = None,
    purpose: FromQuery[PurposeOfUse] = None,
) -> Template:
    """The learning log of one person's record (governance first says why it opens it)."""
    actor = actor_of(request, pages)
    if purpose_needed(actor, purpose):
        return ask_purpose(request, pages)
    case = await anyio.to_thread.run_sync(
        lambda: read_case(records, actor, case_id, "learning-log-page", purpose=purpose)
    )
    await read_consistently(positions, ["care"], min_position)
    async with reads.person() as conn:
        log = await learning_log(conn, case_id)
    return render(
        request,
        pages,
        "learning_log.jinja",
        case=case_view(case),
        log=log,
        setback_labels=SETBACK_LABELS,
        escalation_labels=ESCALATION_LABELS,
    )


LEARNING_ROUTES = [learning_page]
