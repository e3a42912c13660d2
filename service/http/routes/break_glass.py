"""Break-glass: a clinician outside the care team opens a record by stating why, for a limited time;
governance reviews every such access and closes it with an outcome.

The grant is an entry in the case (``break_glass_granted``), so it is in the record's history and
its hash chain; the free text it carries is clinical text like any other, never logged or echoed
in a problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from events.entries import BreakGlassGranted
from events.values import Actor, Role, Text
from projections.queries.break_glass import (
    BreakGlassAccess,
    BreakGlassPage,
    ReviewOutcome,
    break_glass_accesses,
    close_review,
)
from service.http.access import PurposeOfUse
from service.http.auth import requires
from service.http.inputs import build_entry, input_type
from service.http.listing import log_named_cases
from service.http.reading import ReadPools
from service.http.routes.conditions import json_body_required, write_request, written
from service.http.routes.parameters import After, Limit, invalid
from service.http.views import EntryWritten
from service.write.application import CaseRecords

__all__ = ["BreakGlassController", "BreakGlassReviewController", "ReviewClosing"]

if TYPE_CHECKING:
    BreakGlassRequest: TypeAlias = Any
else:
    BreakGlassRequest = input_type(BreakGlassGranted)


class ReviewClosing(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Governance's judgement of one break-glass access, and what follows from an inappropriate one."""

    outcome: ReviewOutcome
    follow_up: Text | None = None
    """What follows (required when the access was inappropriate): a conversation, an incident, ..."""


OpenOnly = Annotated[
    bool, QueryParameter(name="open", description="Only accesses not yet reviewed (default true)")
]


class BreakGlassController(Controller):
    """Opening a record from outside its care team."""

    path = "/cases/{case_id:uuid}/break-glass"
    tags = ("Break-glass",)

    @post(
        "/",
        operation_id="breakGlass",
        summary="Open a record from outside the care team, stating why",
        status_code=201,
        guards=[requires(Role.CLINICIAN), json_body_required],
    )
    async def break_glass(
        self,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        break_glass_seconds: NamedDependency[int],
        case_id: FromPath[UUID],
        data: JSONBody[BreakGlassRequest],
    ) -> Response[EntryWritten]:
        """Record a break-glass grant: the clinician may read this record (and no other) until the grant
        ends (``WAYMARK_BREAK_GLASS_SECONDS``, 4 hours by default), then 403 as before. Governance
        is alerted and reviews it. The grant opens the record for reading only."""
        expires = datetime.now(UTC) + timedelta(seconds=break_glass_seconds)
        entry = build_entry(BreakGlassGranted, data, case_id=case_id, actor=request.user, expires_at=expires)
        conditions = await write_request(request)
        receipt = await anyio.to_thread.run_sync(records.record, case_id, entry, conditions)
        return written(receipt, location=f"/cases/{case_id}")


class BreakGlassReviewController(Controller):
    """Governance's list of break-glass accesses to review."""

    path = "/governance/break-glass"
    tags = ("Governance",)
    guards = (requires(Role.GOVERNANCE),)

    @get("/", operation_id="getBreakGlassAccesses", summary="Break-glass accesses to review")
    async def accesses(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        reads: NamedDependency[ReadPools],
        purpose: PurposeOfUse = None,
        open_only: OpenOnly = True,
        after: After = 0,
        limit: Limit = 100,
    ) -> BreakGlassPage:
        """Every break-glass access in the order granted, with who, which record, the reason and its
        free text, when it ends, and its outcome once reviewed; by default only those still open."""
        async with reads.service() as conn:
            page = await break_glass_accesses(conn, open_only=open_only, after=after, limit=limit)
        await log_named_cases(records, request.user, page, "list break-glass", purpose)
        return page

    @post(
        "/{entry_id:uuid}/review",
        operation_id="closeBreakGlassReview",
        summary="Close a break-glass access with its outcome",
        status_code=201,
        guards=[json_body_required],
    )
    async def close(
        self,
        request: Request[Actor, Any, Any],
        reads: NamedDependency[ReadPools],
        entry_id: FromPath[UUID],
        data: JSONBody[ReviewClosing],
    ) -> BreakGlassAccess:
        """Appropriate, or inappropriate and what follows; each access is closed once (409 after)."""
        if data.outcome is ReviewOutcome.INAPPROPRIATE and data.follow_up is None:
            raise invalid("follow_up", "Say what follows from an inappropriate access: send follow_up.")
        async with reads.service() as conn:
            return await close_review(conn, entry_id, data.outcome, data.follow_up, request.user.id)
