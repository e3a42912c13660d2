"""The action loop's lists: for one case, a clinician's caseload and the service (governance), and
how fast items are actioned. Items clear only when the action is recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from events.values import Actor, Role
from projections.queries.action_times import TimeToAction, time_to_action
from projections.queries.actions import ActionItem, ActionScope, ActionsPage, action_items, action_page
from service.http.access import PurposeOfUse
from service.http.auth import requires
from service.http.listing import log_named_cases
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.http.routes.drilldown import PageSize, TeamMember
from service.http.routes.parameters import From, MinPosition, ServiceFilter, To, period
from service.http.routes.readmodels import authorise_person, read_consistently
from service.write.application import CaseRecords

__all__ = ["ActionListController", "CaseActionsController"]

READS = ["care", "care_teams", "trajectory"]
AfterCase = Annotated[
    UUID | None, QueryParameter(name="after", description="The last page's next_after (a case id)")
]


class CaseActionsController(Controller):
    """One case's action items, for its care team and governance (a logged read)."""

    path = "/cases/{case_id:uuid}"
    tags = ("Actions",)
    guards = (requires(Role.CLINICIAN, Role.GOVERNANCE),)

    @get("/actions", operation_id="getCaseActions", summary="What this case needs done")
    async def case_actions(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        review_interval_days: NamedDependency[int],
        case_id: FromPath[UUID],
        min_position: MinPosition = None,
        purpose: PurposeOfUse = None,
    ) -> list[ActionItem]:
        """Review due or overdue, reviews with no decision after 28 days, plan changes naming no cause,
        stalled or worsening domains, escalations rising; oldest flag first."""
        await authorise_person(request, records, case_id, "actions", purpose)
        await read_consistently(positions, READS, min_position)
        scope = ActionScope(case_id=case_id, review_interval_days=review_interval_days)
        async with reads.person() as conn:
            return await action_items(conn, scope, datetime.now(UTC))


class ActionListController(Controller):
    """Action items across cases: a clinician's caseload, or a service for governance."""

    path = "/"
    tags = ("Actions",)

    @get(
        "/caseload/actions",
        operation_id="getCaseloadActions",
        summary="What my caseload needs done",
        guards=[requires(Role.CLINICIAN)],
    )
    async def caseload_actions(
        self,
        *,
        request: Request[Actor, Any, Any],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        review_interval_days: NamedDependency[int],
        min_position: MinPosition = None,
    ) -> list[ActionItem]:
        """The items of the open cases whose care team includes the signed-in clinician."""
        await read_consistently(positions, READS, min_position)
        scope = ActionScope(care_team_member=request.user.id, review_interval_days=review_interval_days)
        async with reads.service() as conn:
            return await action_items(conn, scope, datetime.now(UTC))

    @get(
        "/service/actions",
        operation_id="getServiceActions",
        summary="What the service's open cases need done",
        guards=[requires(Role.GOVERNANCE)],
    )
    async def service_actions(
        self,
        *,
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        review_interval_days: NamedDependency[int],
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        service: ServiceFilter = None,
        care_team_member: TeamMember = None,
        after: AfterCase = None,
        limit: PageSize = 50,
        min_position: MinPosition = None,
        purpose: PurposeOfUse = None,
    ) -> ActionsPage:
        """Every open case's items (or one service's, or one clinician's caseload), ``limit`` cases a
        page (keyset on the case id, no cap); each case's items oldest flag first."""
        await read_consistently(positions, READS, min_position)
        scope = ActionScope(
            service=service, care_team_member=care_team_member, review_interval_days=review_interval_days
        )
        async with reads.service() as conn:
            page = await action_page(conn, scope, datetime.now(UTC), after=after, limit=limit)
        await log_named_cases(records, request.user, page, "list service-actions", purpose)
        return page

    @get(
        "/service/time-to-action",
        operation_id="getServiceTimeToAction",
        summary="How fast flagged items are actioned",
        guards=[requires(Role.GOVERNANCE)],
    )
    async def service_time_to_action(
        self,
        *,
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        review_interval_days: NamedDependency[int],
        from_: From,
        to: To,
        service: ServiceFilter = None,
        min_position: MinPosition = None,
    ) -> list[TimeToAction]:
        """By service, month of the flag and kind (review due or overdue; no decision after 28 days;
        a plan change naming no cause; a stalled or worsening domain; escalations rising): flagged,
        actioned, still open, ended without action (a stalled or worsening domain no longer judged
        stalled at a later reading before any decision named its latest review; 0 for the other
        kinds), median days from flag to action and the share of those flagged actioned within 28
        days."""
        start, end = period(from_, to)
        # Plan changes that named no cause, and the corrections that named one, are the audit trail's.
        await read_consistently(positions, [*READS, "audit"], min_position)
        return await time_to_action(
            reads.service, start, end, service, now=datetime.now(UTC), interval_days=review_interval_days
        )
