"""The disclosure audit for governance: who looked at a person's record (or was refused it), and what
a user looked at; as JSON pages, or as CSV for a subject access request."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from events.values import Role
from projections.queries.disclosure import CSV_COLUMNS, DisclosureFilter, DisclosurePage, disclosures
from service.http.auth import requires
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

__all__ = ["DisclosureController"]

Format = Annotated[Literal["json", "csv"], QueryParameter(name="format", description="json or csv")]


class DisclosureController(Controller):
    """Reads of people's records, served and refused, from the access log."""

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
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        case_id: FromQuery[UUID | None] = None,
        person_ref: PersonFilter = None,
        actor: UserFilter = None,
        from_: RecordedFrom = None,
        to: RecordedTo = None,
        after: After = 0,
        limit: Limit = 100,
        format_: Format = "json",
        min_position: MinPosition = None,
    ) -> Response[DisclosurePage | str]:
        """Every read of person-level data with who, in what role, which record and view, when, and
        whether it was served or refused; ``format=csv`` gives the page as CSV (one row per read)."""
        viewed_from, viewed_to = recorded_between(from_, to)
        where = DisclosureFilter(case_id, person_ref, actor, viewed_from, viewed_to)
        await read_consistently(positions, ["care"], min_position)  # a person's cases, by reference
        async with reads.service() as conn:
            page = await disclosures(conn, where, after=after, limit=limit)
        if format_ == "json":
            return Response(page)
        return Response(
            _csv(page),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="disclosures.csv"'},
        )


def _csv(page: DisclosurePage) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in page.items:
        writer.writerow([getattr(item, column) for column in CSV_COLUMNS])
    return out.getvalue()
