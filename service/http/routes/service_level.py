"""Service-level learning and SPC charts: for governance, admin and reporting (no free text for reporting)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from events.values import Actor, Role
from projections.batch import head_position
from projections.queries.report import ServiceReport, service_report
from projections.queries.service import ServiceLearning, ServiceQuery, SpcMetric, service_learning, spc
from projections.spc import XmRChart
from service.http.auth import requires
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.http.routes.parameters import From, MinPosition, Rebase, ServiceFilter, To, period, report_dates
from service.http.routes.readmodels import read_consistently

__all__ = ["ServiceController", "report_for"]

SCREEN = (
    "Leave moving ranges at or above 3.267 x their mean out of the limits (NHSRplotthedots' default);"
    " false gives the unscreened limits of the NHS Excel tool"
)


class ServiceController(Controller):
    """How the service as a whole is doing, and what it can learn."""

    path = "/service"
    tags = ("Service",)
    guards = (requires(Role.GOVERNANCE, Role.ADMIN, Role.REPORTING),)

    @get("/learning", operation_id="getServiceLearning", summary="Barriers, approaches that help, rates")
    async def learning(
        self,
        *,
        request: Request[Actor, Any, Any],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        from_: From,
        to: To,
        service: ServiceFilter = None,
        min_position: MinPosition = None,
    ) -> ServiceLearning:
        """Contributing factors ranked by month; strategies introduced and how the domains moved after
        (not for the reporting role: strategy names are free text); escalations per 1,000 open days by
        month; share of people with reliable improvement per instrument."""
        start, end = period(from_, to)
        await read_consistently(positions, ["care", "trajectory"], min_position)
        async with reads.within_limit():
            return await service_learning(
                reads.service_pool,
                ServiceQuery(start, end, service),
                datetime.now(UTC),
                with_strategies=request.user.role is not Role.REPORTING,
            )

    @get("/spc/{metric:str}", operation_id="getServiceSpc", summary="XmR chart of a monthly service metric")
    async def spc_chart(
        self,
        *,
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        metric: FromPath[SpcMetric],
        from_: From,
        to: To,
        service: ServiceFilter = None,
        rebase: Rebase = None,
        screen: Annotated[bool, QueryParameter(description=SCREEN)] = True,
        min_position: MinPosition = None,
    ) -> XmRChart:
        """Mean, limits (mean +/- 2.66 x mean moving range, screened unless screen=false) and
        special-cause flags by the four rules; a warning under 12 points; rebased at the given months."""
        start, end = period(from_, to)
        changes = report_dates("rebase", rebase)
        await read_consistently(positions, ["care"], min_position)
        query = ServiceQuery(start, end, service)
        async with reads.service() as conn:
            return await spc(conn, metric, query, datetime.now(UTC), changes, screen=screen)

    @get("/report", operation_id="getServiceReport", summary="The commissioner report, as published")
    async def report(
        self,
        *,
        request: Request[Actor, Any, Any],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        from_: From,
        to: To,
        service: ServiceFilter = None,
    ) -> ServiceReport:
        """Outcomes per instrument and domain, SPC charts against the period before, reviews leading to
        action, context and the outcome stories whose consent stands (governance only: free text),
        every count of people through small-number suppression."""
        return await report_for(reads, positions, request.user, from_=from_, to=to, service=service)


async def report_for(
    reads: ReadPools,
    positions: PositionWatcher,
    reader: Actor,
    *,
    from_: datetime,
    to: datetime,
    service: str | None,
) -> ServiceReport:
    """The report once the read models hold every entry written before it was asked for, so a story
    whose consent was withdrawn before then is never in it (else a 503 with Retry-After)."""
    start, end = period(from_, to)
    async with reads.service() as conn:
        head = await head_position(conn)  # type: ignore[arg-type]
    await positions.wait_for(["care", "trajectory"], head)
    async with reads.within_limit():
        return await service_report(
            reads.service_pool,
            ServiceQuery(start, end, service),
            datetime.now(UTC),
            with_stories=reader.role is Role.GOVERNANCE,
        )
