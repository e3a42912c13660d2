"""Service-level learning and SPC charts: for governance, admin and reporting (no free text for reporting)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from events.values import Actor, Role
from projections.queries.service import ServiceLearning, ServiceQuery, SpcMetric, service_learning, spc
from projections.spc import XmRChart
from service.auth import requires
from service.positions import PositionWatcher
from service.routes.readmodels import LONGEST_PERIOD_DAYS, MinPosition, check_period, read_consistently

__all__ = ["ServiceController"]

From = Annotated[datetime, QueryParameter(name="from", description="Start (inclusive), RFC 3339")]
To = Annotated[datetime, QueryParameter(description="End (exclusive), RFC 3339")]
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
        read_pool: NamedDependency[asyncpg.Pool],
        positions: NamedDependency[PositionWatcher],
        from_: From,
        to: To,
        service: FromQuery[str | None] = None,
        min_position: FromQuery[MinPosition] = None,
    ) -> ServiceLearning:
        """Contributing factors ranked by month; strategies introduced and how the domains moved after
        (not for the reporting role: strategy names are free text); escalations per 1,000 open days by
        month; share of people with reliable improvement per instrument."""
        check_period(from_, to, longest_days=LONGEST_PERIOD_DAYS)
        await read_consistently(positions, ["care", "trajectory"], min_position)
        return await service_learning(
            read_pool,
            ServiceQuery(from_, to, service),
            datetime.now(UTC),
            with_strategies=request.user.role is not Role.REPORTING,
        )

    @get("/spc/{metric:str}", operation_id="getServiceSpc", summary="XmR chart of a monthly service metric")
    async def spc_chart(
        self,
        *,
        read_pool: NamedDependency[asyncpg.Pool],
        positions: NamedDependency[PositionWatcher],
        metric: FromPath[SpcMetric],
        from_: From,
        to: To,
        service: FromQuery[str | None] = None,
        rebase: Annotated[
            list[date] | None, QueryParameter(description="Months of known service changes")
        ] = None,
        screen: Annotated[bool, QueryParameter(description=SCREEN)] = True,
        min_position: FromQuery[MinPosition] = None,
    ) -> XmRChart:
        """Mean, limits (mean +/- 2.66 x mean moving range, screened unless screen=false) and
        special-cause flags by the four rules; a warning under 12 points; rebased at the given months."""
        check_period(from_, to, longest_days=LONGEST_PERIOD_DAYS)
        await read_consistently(positions, ["care"], min_position)
        query = ServiceQuery(from_, to, service)
        async with read_pool.acquire() as conn:
            return await spc(conn, metric, query, datetime.now(UTC), rebase or [], screen=screen)
