"""Opening a case, reading it as it stands or stood, its history, and managing its care team."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID, uuid4

import anyio.to_thread
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from events.codec import type_name
from events.entries import CareTeamChanged, CaseOpened
from events.values import Actor, Role
from service.http.access import PurposeOfUse
from service.http.auth import requires
from service.http.inputs import build_entry, input_type
from service.http.replaying import ReplayPoint, learned_after, replay_case
from service.http.routes.conditions import etag, json_body_required, not_modified, write_request, written
from service.http.routes.parameters import (
    After,
    AtVersion,
    Limit,
    OccurredUntil,
    RecordedAfter,
    RecordedUntil,
    invalid,
    replay_instant,
)
from service.http.routes.readmodels import read_case
from service.http.telemetry import ENTRY_KIND
from service.http.views import (
    CaseView,
    EntryWritten,
    HistoryPage,
    LearnedItem,
    LearnedSince,
    case_view,
    history_item,
)
from service.write.application import CaseRecords

__all__ = ["CaseController"]

if TYPE_CHECKING:
    # Request bodies are generated from the entry types at import; their fields are checked by msgspec.
    OpenCaseRequest: TypeAlias = Any
    CareTeamRequest: TypeAlias = Any
else:
    OpenCaseRequest = input_type(CaseOpened)
    CareTeamRequest = input_type(CareTeamChanged)


class CaseController(Controller):
    """Case records: open, read (now or as it stood), history, care team."""

    path = "/cases"
    tags = ("Cases",)

    @post(
        "/",
        operation_id="openCase",
        summary="Open a case",
        status_code=201,
        guards=[requires(Role.CLINICIAN), json_body_required],
        opt={ENTRY_KIND: type_name(CaseOpened)},
    )
    async def open_case(
        self,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        data: JSONBody[OpenCaseRequest],
    ) -> Response[EntryWritten]:
        """Open a case; the clinician who opens it joins its care team."""
        actor = request.user
        case_id = uuid4()
        team = tuple(dict.fromkeys((*data.care_team, actor.id)))
        opened = build_entry(CaseOpened, data, case_id=case_id, actor=actor, care_team=team)
        conditions = await write_request(request)
        receipt = await anyio.to_thread.run_sync(records.open_case, opened, conditions)
        return written(receipt, location=f"/cases/{receipt.case_id}")

    @get(
        "/{case_id:uuid}",
        operation_id="getCase",
        summary="A case as it stands",
        guards=[requires(Role.CLINICIAN, Role.GOVERNANCE)],
        responses={304: ResponseSpec(None, description="If-None-Match names the current version")},
    )
    async def get_case(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        case_id: FromPath[UUID],
        version: AtVersion = None,
        recorded_until: RecordedUntil = None,
        occurred_until: OccurredUntil = None,
        purpose: PurposeOfUse = None,
    ) -> Response[CaseView]:
        """Status, care team, goals and milestones, open escalations, current plan and last review.

        ``version`` or ``recorded_until`` replays the case as it stood then: what did we know at the
        time? ``occurred_until``: what we know now about the time up to then.
        """
        point = ReplayPoint.of(recorded_until, occurred_until)
        if point.active and version is not None:
            raise invalid("version", "Send either `version` or a replay time, not both.")
        if point.active:
            replayed = await anyio.to_thread.run_sync(
                lambda: replay_case(records, request.user, case_id, "case", point, purpose=purpose)
            )
            case, tag = replayed.case, point.etag(replayed.current)
        else:
            case = await anyio.to_thread.run_sync(
                lambda: read_case(records, request.user, case_id, "case", version=version, purpose=purpose)
            )
            tag = etag(case.version)
        if not_modified(request, tag):
            return Response(None, status_code=304, headers={"ETag": tag})  # type: ignore[arg-type]
        return Response(case_view(case), headers={"ETag": tag})

    @get(
        "/{case_id:uuid}/history",
        operation_id="getCaseHistory",
        summary="Every entry, in order",
        guards=[requires(Role.CLINICIAN, Role.GOVERNANCE)],
    )
    async def history(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        case_id: FromPath[UUID],
        after: After = 0,
        limit: Limit = 100,
        recorded_until: RecordedUntil = None,
        occurred_until: OccurredUntil = None,
        purpose: PurposeOfUse = None,
    ) -> HistoryPage:
        """Entries in the order they were recorded, with corrections linked both ways; page with ``after``.
        ``recorded_until`` and ``occurred_until`` replay it as ``GET /cases/{id}`` does."""
        point = ReplayPoint.of(recorded_until, occurred_until)
        if point.active:
            replayed = await anyio.to_thread.run_sync(
                lambda: replay_case(
                    records, request.user, case_id, "history", point, entries=True, purpose=purpose
                )
            )
            kept = [(v, e) for v, e in replayed.entries or [] if v > after]
            items = [history_item(replayed.case, v, e) for v, e in kept[:limit]]
            return HistoryPage(case_id, items, items[-1].version if len(kept) > limit else None)
        case = await anyio.to_thread.run_sync(
            lambda: read_case(records, request.user, case_id, "history", purpose=purpose)
        )
        page = await anyio.to_thread.run_sync(lambda: records.entries(case_id, after=after, limit=limit))
        items = [history_item(case, version, entry) for version, entry in page]
        more = bool(items) and items[-1].version < case.version
        return HistoryPage(case_id, items, items[-1].version if more else None)

    @get(
        "/{case_id:uuid}/learned-since",
        operation_id="getLearnedSince",
        summary="What was learned later about a time",
        guards=[requires(Role.CLINICIAN, Role.GOVERNANCE)],
    )
    async def learned_since(
        self,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        case_id: FromPath[UUID],
        recorded_after: RecordedAfter,
        purpose: PurposeOfUse = None,
    ) -> LearnedSince:
        """Late entries and corrections recorded after ``recorded_after`` about what happened by then,
        each with when it happened, when it was recorded, who recorded it and why."""
        after = replay_instant("recorded_after", recorded_after)
        case, learned = await anyio.to_thread.run_sync(
            lambda: learned_after(records, request.user, case_id, after, purpose)
        )
        items = [
            LearnedItem(
                item.kind,
                item.about,
                item.reason,
                history_item(case, item.version, item.entry),
            )
            for item in learned
        ]
        return LearnedSince(case_id, after, items)

    @put(
        "/{case_id:uuid}/care-team",
        operation_id="changeCareTeam",
        summary="Change the care team",
        guards=[requires(Role.ADMIN), json_body_required],
        status_code=201,
    )
    async def change_care_team(
        self,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        case_id: FromPath[UUID],
        data: JSONBody[CareTeamRequest],
    ) -> Response[EntryWritten]:
        """Replace the care team: the users with a legitimate relationship to this record."""
        entry = build_entry(CareTeamChanged, data, case_id=case_id, actor=request.user)
        conditions = await write_request(request)
        receipt = await anyio.to_thread.run_sync(records.record, case_id, entry, conditions)
        return written(receipt)
