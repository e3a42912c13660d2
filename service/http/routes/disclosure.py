"""The disclosure audit for governance: who looked at a person's record (or was refused it), and what
a user looked at; as JSON pages, or as CSV for a subject access request."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from events.values import Actor, Role
from projections.queries.disclosure import CSV_COLUMNS, DisclosureFilter, DisclosurePage, disclosures
from service.http.access import PurposeOfUse
from service.http.auth import requires
from service.http.listing import log_named_cases
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.http.routes.parameters import (
    After,
    Limit,
    MinPosition,
    PersonFilter,
    RecordedFrom,
    RecordedTo,
    UserFilter,
    recorded_between,
)
from service.http.routes.readmodels import read_consistently
from service.write.application import CaseRecords

__all__ = ["DisclosureController"]


class DisclosureController(Controller):
    """Reads of people's records, served and refused, from the access log. The two routes take the
    same parameters (Litestar names a parameter's problems only when the handler declares it)."""

    path = "/audit"
    tags = ("Audit",)
    guards = (requires(Role.GOVERNANCE),)

    @get(
        "/views",
        operation_id="getDisclosures",
        summary="Who looked at a person's record, and what a user looked at",
    )
    async def views(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        purpose: PurposeOfUse = None,
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        case_id: FromQuery[UUID | None] = None,
        person_ref: PersonFilter = None,
        actor: UserFilter = None,
        from_: RecordedFrom = None,
        to: RecordedTo = None,
        after: After = 0,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> DisclosurePage:
        """Every read of person-level data with who, in what role, which record and view, when, and
        whether it was served or refused, in the order logged: by case, by person reference (every
        case of theirs) or by user."""
        where = _where(case_id, person_ref, actor, from_, to)
        page = await _page(reads, positions, where, after=after, limit=limit, min_position=min_position)
        # Who looked at who looked: reading the access log is a read of every record it names.
        await log_named_cases(records, request.user, page, "list disclosures", purpose)
        return page

    @get(
        "/views.csv",
        operation_id="getDisclosuresCsv",
        summary="The same reads as CSV, for a subject access request",
        media_type="text/csv",
    )
    async def views_csv(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        purpose: PurposeOfUse = None,
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        case_id: FromQuery[UUID | None] = None,
        person_ref: PersonFilter = None,
        actor: UserFilter = None,
        from_: RecordedFrom = None,
        to: RecordedTo = None,
        after: After = 0,
        limit: Limit = 100,
        min_position: MinPosition = None,
    ) -> Response[str]:
        """One row per read, the columns of the JSON items; page with ``after`` as for JSON."""
        where = _where(case_id, person_ref, actor, from_, to)
        page = await _page(reads, positions, where, after=after, limit=limit, min_position=min_position)
        await log_named_cases(records, request.user, page, "list disclosures.csv", purpose)
        disposition = 'attachment; filename="disclosures.csv"'
        return Response(_csv(page), media_type="text/csv", headers={"Content-Disposition": disposition})


def _where(
    case_id: UUID | None, person: str | None, actor: str | None, start: datetime | None, end: datetime | None
) -> DisclosureFilter:
    viewed_from, viewed_to = recorded_between(start, end)
    return DisclosureFilter(case_id, person, actor, viewed_from, viewed_to)


async def _page(
    reads: ReadPools,
    positions: PositionWatcher,
    where: DisclosureFilter,
    *,
    after: int,
    limit: int,
    min_position: int | None,
) -> DisclosurePage:
    await read_consistently(positions, ["care"], min_position)  # a person's cases, by reference
    async with reads.service() as conn:
        return await disclosures(conn, where, after=after, limit=limit)


def _csv(page: DisclosurePage) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in page.items:
        writer.writerow([getattr(item, column) for column in CSV_COLUMNS])
    return out.getvalue()
