"""Governance drill-downs: from a service figure to the reviews, setbacks and escalations behind it,
each with what followed. Governance and admin only: they carry case ids and plan rationales."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from events.values import Actor, ContributingFactor, ReviewKind, Role, UserId
from projections.queries.follow_up import Cursor
from projections.queries.learning_drilldown import (
    LearningFilter,
    LearningPage,
    escalations_page,
    setbacks_page,
)
from projections.queries.review_drilldown import ReviewFilter, ReviewLed, ReviewsPage, reviews_page
from service.http.access import PurposeOfUse
from service.http.auth import requires
from service.http.listing import log_named_cases
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.http.routes.parameters import From, MinPosition, ServiceFilter, To, invalid, like, period
from service.http.routes.readmodels import read_consistently
from service.write.application import CaseRecords

__all__ = ["DrillDownController", "PageAfter", "PageSize", "page_cursor"]

PageAfter = Annotated[
    str | None,
    QueryParameter(
        name="after", pattern="^[A-Za-z0-9_-]{1,400}$", description="The last page's next_after (a cursor)"
    ),
]
PageSize = Annotated[int, QueryParameter(name="limit", ge=1, le=200, description="Rows per page (1-200)")]
Reviewer = Annotated[str | None, QueryParameter(description="Only reviews by this user", **like(UserId))]
TeamMember = Annotated[
    str | None,
    QueryParameter(description="Only cases whose care team now includes this user", **like(UserId)),
]
KindFilter = Annotated[ReviewKind | None, QueryParameter(description="Only this kind of review")]
LedTo = Annotated[
    ReviewLed | None,
    QueryParameter(
        name="led_to",
        description="Only reviews that led to a change, to action (change or confirmation within 28 days),"
        " not to action, or to no decision after 28 days",
    ),
]
NamedByChange = Annotated[
    bool | None,
    QueryParameter(description="Only those a plan change named (true) or that no plan change named (false)"),
]
Factor = Annotated[ContributingFactor | None, QueryParameter(description="Only setbacks with this factor")]
LeastSeverity = Annotated[
    int | None, QueryParameter(ge=1, le=4, description="Only escalations at least this severe (1-4)")
]


def page_cursor(after: str | None) -> Cursor | None:
    """The cursor a client sent back, or a 422 naming ``after``."""
    if after is None:
        return None
    try:
        return Cursor.decode(after)
    except ValueError:
        raise invalid("after", "Not a cursor: send the next_after of the previous page.") from None


class DrillDownController(Controller):
    """From a figure to the entries behind it."""

    path = "/service"
    tags = ("Service",)
    guards = (requires(Role.GOVERNANCE),)

    @get("/reviews", operation_id="getServiceReviews", summary="Reviews in a period and what followed each")
    async def reviews(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        purpose: PurposeOfUse = None,
        from_: From,
        to: To,
        service: ServiceFilter = None,
        kind: KindFilter = None,
        reviewer: Reviewer = None,
        care_team_member: TeamMember = None,
        led_to: LedTo = None,
        after: PageAfter = None,
        limit: PageSize = 50,
        min_position: MinPosition = None,
    ) -> ReviewsPage:
        """Newest first, a page at a time: each review's outcome, days to the first decision, every
        decision naming it with support hours before and after, strategies added and removed, domains
        added and the rationale, and each domain's mean rating in the 90 days after the first decision
        against the 90 before (with n; "not enough readings" when a side has none)."""
        start, end = period(from_, to)
        cursor = page_cursor(after)
        await read_consistently(positions, ["care", "trajectory"], min_position)
        where = ReviewFilter(
            start=start,
            end=end,
            service=service,
            kind=kind,
            reviewer=reviewer,
            care_team_member=care_team_member,
            led_to=led_to,
        )
        async with reads.service() as conn:
            page = await reviews_page(conn, where, after=cursor, limit=limit, now=datetime.now(UTC))
        await log_named_cases(records, request.user, page, "list service-reviews", purpose)
        return page

    @get("/setbacks", operation_id="getServiceSetbacks", summary="Setbacks in a period, what was learned")
    async def setbacks(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        purpose: PurposeOfUse = None,
        from_: From,
        to: To,
        service: ServiceFilter = None,
        care_team_member: TeamMember = None,
        named_by_change: NamedByChange = None,
        factor: Factor = None,
        after: PageAfter = None,
        limit: PageSize = 50,
        min_position: MinPosition = None,
    ) -> LearningPage:
        """Newest first, a page at a time: contributing factors, risk management, learning and
        adaptation; the decisions naming each setback and what they changed; domain ratings around the
        first decision, as for reviews."""
        start, end = period(from_, to)
        cursor = page_cursor(after)
        await read_consistently(positions, ["care", "trajectory"], min_position)
        where = LearningFilter(
            start=start,
            end=end,
            service=service,
            care_team_member=care_team_member,
            named_by_change=named_by_change,
            factor=factor,
        )
        async with reads.service() as conn:
            page = await setbacks_page(conn, where, after=cursor, limit=limit)
        await log_named_cases(records, request.user, page, "list service-setbacks", purpose)
        return page

    @get(
        "/escalations", operation_id="getServiceEscalations", summary="Escalations in a period, what followed"
    )
    async def escalations(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        purpose: PurposeOfUse = None,
        from_: From,
        to: To,
        service: ServiceFilter = None,
        care_team_member: TeamMember = None,
        named_by_change: NamedByChange = None,
        least_severity: LeastSeverity = None,
        after: PageAfter = None,
        limit: PageSize = 50,
        min_position: MinPosition = None,
    ) -> LearningPage:
        """Newest first, a page at a time: severity, trigger, response, whether the escalation plan was
        used early, resolution; the decisions naming each and what they changed; domain ratings around
        the first decision, as for reviews."""
        start, end = period(from_, to)
        cursor = page_cursor(after)
        await read_consistently(positions, ["care", "trajectory"], min_position)
        where = LearningFilter(
            start=start,
            end=end,
            service=service,
            care_team_member=care_team_member,
            named_by_change=named_by_change,
            least_severity=least_severity,
        )
        async with reads.service() as conn:
            page = await escalations_page(conn, where, after=cursor, limit=limit)
        await log_named_cases(records, request.user, page, "list service-escalations", purpose)
        return page
