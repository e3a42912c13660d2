"""POST routes that append one entry to a case: one factory, one table of routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast
from uuid import UUID

import anyio.to_thread
from litestar import Request, Response, Router, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody

from events.codec import type_name
from events.entries import (
    BreakGlassGranted,
    CareTeamChanged,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    Entry,
    EntryCorrected,
    ErasureApproved,
    EscalationPlanAgreed,
    EscalationRaised,
    EscalationResolved,
    GoalRevised,
    GoalSet,
    MeasureRecorded,
    MilestoneAdded,
    MilestoneReached,
    PlanChanged,
    PlanConfirmed,
    ReviewRecorded,
    SetbackRecorded,
    StatementAdded,
    StoryAgreed,
    StoryConsentWithdrawn,
    TextErased,
)
from events.values import Actor, Role
from service.http.auth import authorise_write, requires
from service.http.inputs import build_entry, input_type
from service.http.routes.conditions import json_body_required, write_request, written
from service.http.telemetry import ENTRY_KIND
from service.http.views import EntryWritten
from service.write.application import CaseRecords

__all__ = ["ELSEWHERE", "ROUTES", "EntryRoute", "entry_router"]


@dataclass(frozen=True)
class EntryRoute:
    """One kind of entry a clinician can append, where it is posted, and its OpenAPI operation."""

    path: str
    entry_type: type[Entry]
    operation_id: str
    summary: str
    names: str | None = None
    """For nested paths, the entry field that ``{entry_id}`` in the path fills in."""


ROUTES = (
    EntryRoute("/goals", GoalSet, "setGoal", "Set a personal goal"),
    EntryRoute("/goals/{entry_id:uuid}/revisions", GoalRevised, "reviseGoal", "Revise a goal", "goal_id"),
    EntryRoute("/milestones", MilestoneAdded, "addMilestone", "Add a milestone to a goal"),
    EntryRoute(
        "/milestones/{entry_id:uuid}/reached",
        MilestoneReached,
        "reachMilestone",
        "Record that a milestone was reached",
        "milestone_id",
    ),
    EntryRoute("/reviews", ReviewRecorded, "recordReview", "Record a review"),
    EntryRoute("/measures", MeasureRecorded, "recordMeasure", "Record a standard outcome measure"),
    EntryRoute("/setbacks", SetbackRecorded, "recordSetback", "Record a setback"),
    EntryRoute("/escalations", EscalationRaised, "raiseEscalation", "Raise an escalation"),
    EntryRoute(
        "/escalations/{entry_id:uuid}/resolution",
        EscalationResolved,
        "resolveEscalation",
        "Resolve an open escalation",
        "escalation_id",
    ),
    EntryRoute(
        "/escalation-plans",
        EscalationPlanAgreed,
        "agreeEscalationPlan",
        "Record an escalation (crisis) plan agreed with the person",
    ),
    EntryRoute("/plan-changes", PlanChanged, "changePlan", "Change the plan, naming what caused it"),
    EntryRoute(
        "/plan-confirmations", PlanConfirmed, "confirmPlan", "Confirm the plan: no change, because ..."
    ),
    EntryRoute(
        "/corrections", EntryCorrected, "correctEntry", "Correct an earlier entry (the original stays)"
    ),
    EntryRoute("/statements", StatementAdded, "addStatement", "Add a statement by the person"),
    EntryRoute("/stories", StoryAgreed, "agreeStory", "Record an outcome story agreed for sharing"),
    EntryRoute(
        "/stories/{entry_id:uuid}/consent-withdrawal",
        StoryConsentWithdrawn,
        "withdrawStoryConsent",
        "Record that consent to share a story was withdrawn",
        "story_id",
    ),
    EntryRoute("/closure", CaseClosed, "closeCase", "Close the case"),
    EntryRoute("/reopening", CaseReopened, "reopenCase", "Reopen a closed case"),
)
"""Every kind a clinician appends to an existing case, posted under ``/cases/{case_id}``."""

ELSEWHERE: dict[type[Entry], str] = {
    CaseOpened: "opens the case: POST /cases (service/http/routes/cases.py), which makes the case id",
    CareTeamChanged: "decides who can read the record: PUT /cases/{case_id}/care-team, an admin's change",
    BreakGlassGranted: "written by a clinician outside the care team: POST /cases/{case_id}/break-glass",
    ErasureApproved: "a governance decision: POST /cases/{case_id}/erasure-approvals",
    TextErased: "governance carries out an approval: POST /cases/{case_id}/erasures",
}
"""Kinds with no route in ``ROUTES``, and why: with it every kind is written somewhere, or says why
not (``tests/unit/test_registry.py``)."""


async def _append(
    route: EntryRoute,
    request: Request[Actor, Any, Any],
    *,
    records: CaseRecords,
    case_id: UUID,
    body: Any,
    path_entry_id: UUID | None,
) -> Response[EntryWritten]:
    actor = request.user
    conditions = await write_request(request, partial(authorise_write, actor))
    server_values = {route.names: path_entry_id} if route.names else {}
    entry = build_entry(route.entry_type, body, case_id=case_id, actor=actor, **server_values)
    if isinstance(entry, EntryCorrected):
        receipt = await anyio.to_thread.run_sync(records.correct, case_id, entry, conditions)
    else:
        receipt = await anyio.to_thread.run_sync(records.record, case_id, entry, conditions)
    return written(receipt)


def _handler(route: EntryRoute) -> HTTPRouteHandler:
    body_type = input_type(route.entry_type)
    handler: Callable[..., Awaitable[Response[EntryWritten]]]
    if route.names:

        async def nested(
            request: Request[Actor, Any, Any], records: CaseRecords, case_id: UUID, entry_id: UUID, data: Any
        ) -> Response[EntryWritten]:
            return await _append(
                route, request, records=records, case_id=case_id, body=data, path_entry_id=entry_id
            )

        nested.__annotations__.update(entry_id=FromPath[UUID])
        handler = nested
    else:

        async def flat(
            request: Request[Actor, Any, Any], records: CaseRecords, case_id: UUID, data: Any
        ) -> Response[EntryWritten]:
            return await _append(
                route, request, records=records, case_id=case_id, body=data, path_entry_id=None
            )

        handler = flat
    handler.__annotations__.update(
        request=Request[Actor, Any, Any],
        records=NamedDependency[CaseRecords],
        case_id=FromPath[UUID],
        data=cast(Any, JSONBody)[body_type],
        **{"return": Response[EntryWritten]},
    )
    handler.__name__ = route.operation_id
    return post(
        route.path,
        operation_id=route.operation_id,
        summary=route.summary,
        description=route.entry_type.__doc__,
        status_code=201,
        guards=[json_body_required],
        opt={ENTRY_KIND: type_name(route.entry_type)},
    )(handler)


def entry_router() -> Router:
    """Every entry route under /cases/{case_id}, for clinicians on the case's care team."""
    return Router(
        "/cases/{case_id:uuid}",
        route_handlers=[_handler(route) for route in ROUTES],
        guards=[requires(Role.CLINICIAN)],
        tags=["Entries"],
    )
