"""Queries over the projections: learning log, review impact, audit trail.

Every query accepts ``min_position`` (a write's ``position``) and waits, bounded, until the
projections it reads have applied it: read-your-writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
import asyncpg
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, QueryParameter

from events.case import Case
from events.values import Actor, Role
from projections.queries.audit import AuditFilter, AuditPage, audit_entries
from projections.queries.impact import ImpactQuery, ReviewImpact, review_impact
from projections.queries.learning import LearningLog, learning_log
from projections.queries.trajectory import Trajectory, trajectory
from service.application import CaseRecords, VersionNotFound
from service.auth import authorise_read, requires
from service.positions import PositionWatcher

__all__ = [
    "AuditController",
    "GovernanceController",
    "PersonProjectionController",
    "check_period",
    "read_case",
    "read_consistently",
]

MinPosition = Annotated[
    int | None, QueryParameter(ge=1, description="Wait (bounded) until this write position is reflected")
]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Rows per page (1-500)")]
After = Annotated[int, QueryParameter(ge=0, description="Return rows after this log position")]
WAIT_SECONDS = 2.0
LONGEST_PERIOD_DAYS = 3660
"""Monthly series cover at most ten years: 120 points is already more than a chart can show."""


def check_period(start: datetime, end: datetime, *, longest_days: int | None = None) -> None:
    """A period must end after it starts, and a monthly series must stay a size people can read."""
    problem = None
    if end <= start:
        problem = "Must be later than `from`: send an end after the start."
    elif longest_days is not None and (end - start).days > longest_days:
        problem = (
            f"The period is longer than {longest_days} days: send an end at most that long after `from`."
        )
    if problem is not None:
        raise ValidationException(extra=[{"key": "to", "source": "query", "message": problem}])


async def read_consistently(positions: PositionWatcher, names: list[str], min_position: int | None) -> None:
    """Wait until the named projections have applied ``min_position`` (else 503 with Retry-After)."""
    if min_position is not None:
        await positions.wait_for(names, min_position, WAIT_SECONDS)


def read_case(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    view: str,
    *,
    version: int | None = None,
    projections: bool = False,
) -> Case:
    """A case for a reader with a legitimate relationship to it, as it stands or at ``version``;
    the read is logged. For a projection (``projections``) only the care team and version are looked
    at, so the cached case is used without a copy. Blocking: call it in a worker thread."""
    case = records.get_case(case_id, copy=not projections)
    authorise_read(actor, case, projections=projections)
    if version is not None and version > case.version:
        raise VersionNotFound(case.version)
    if version is not None and version < case.version:
        case = records.get_case(case_id, version)
    records.case_recorder.record_view(actor.id, actor.role.value, case_id, view, case.version)
    return case


async def authorise_person(
    request: Request[Actor, Any, Any], records: CaseRecords, case_id: UUID, view: str
) -> None:
    """Governance and admin read every case's projections; a clinician only their care team's. Logged."""
    await anyio.to_thread.run_sync(lambda: read_case(records, request.user, case_id, view, projections=True))


class PersonProjectionController(Controller):
    """One person's projections: learning log (and trajectory)."""

    path = "/cases/{case_id:uuid}"
    tags = ("Projections",)
    guards = (requires(Role.CLINICIAN, Role.GOVERNANCE, Role.ADMIN),)

    @get(
        "/learning-log", operation_id="getLearningLog", summary="Setbacks and escalations, and what followed"
    )
    async def learning_log(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        read_pool: NamedDependency[asyncpg.Pool],
        positions: NamedDependency[PositionWatcher],
        case_id: FromPath[UUID],
        min_position: FromQuery[MinPosition] = None,
    ) -> LearningLog:
        """Contributing factors, risk management, learning and adaptation, each with the plan changes
        or confirmations it led to and the days it took."""
        await authorise_person(request, records, case_id, "learning-log")
        await read_consistently(positions, ["care"], min_position)
        async with read_pool.acquire() as conn:
            return await learning_log(conn, case_id)

    @get("/trajectory", operation_id="getTrajectory", summary="Direction of travel per domain and measure")
    async def trajectory(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        read_pool: NamedDependency[asyncpg.Pool],
        positions: NamedDependency[PositionWatcher],
        case_id: FromPath[UUID],
        min_position: FromQuery[MinPosition] = None,
    ) -> Trajectory:
        """Per domain and instrument: readings, change since baseline with its reliable-change category,
        Theil-Sen trend per 90 days, label with n, span and last date, the last 90 days against the 90
        before; confidence and autonomy; escalation rate, severity trend and gaps."""
        await authorise_person(request, records, case_id, "trajectory")
        await read_consistently(positions, ["trajectory", "care"], min_position)
        async with read_pool.acquire() as conn:
            return await trajectory(conn, case_id, datetime.now(UTC))


class GovernanceController(Controller):
    """Governance questions across cases."""

    path = "/governance"
    tags = ("Governance",)
    guards = (requires(Role.GOVERNANCE, Role.ADMIN),)

    @get(
        "/review-impact", operation_id="getReviewImpact", summary="Which reviews led to action, and how fast"
    )
    async def review_impact(
        self,
        *,
        read_pool: NamedDependency[asyncpg.Pool],
        positions: NamedDependency[PositionWatcher],
        from_: Annotated[datetime, QueryParameter(name="from", description="Start (inclusive), RFC 3339")],
        to: Annotated[datetime, QueryParameter(description="End (exclusive), RFC 3339")],
        service: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 100,
        min_position: FromQuery[MinPosition] = None,
    ) -> ReviewImpact:
        """Per review, the decisions that followed and days to decision; reviews with no decision after
        28 days; plan changes with nothing behind them; share of reviews leading to a change by service
        and month."""
        check_period(from_, to, longest_days=LONGEST_PERIOD_DAYS)
        await read_consistently(positions, ["care"], min_position)
        async with read_pool.acquire() as conn:
            return await review_impact(conn, ImpactQuery(from_, to, service, limit), datetime.now(UTC))


class AuditController(Controller):
    """The audit trail of entries, for governance."""

    path = "/audit"
    tags = ("Audit",)
    guards = (requires(Role.GOVERNANCE, Role.ADMIN),)

    @get("/entries", operation_id="getAuditEntries", summary="Who recorded or corrected what, when")
    async def entries(
        self,
        *,
        read_pool: NamedDependency[asyncpg.Pool],
        positions: NamedDependency[PositionWatcher],
        case_id: FromQuery[UUID | None] = None,
        actor: FromQuery[str | None] = None,
        type_: Annotated[str | None, QueryParameter(name="type")] = None,
        from_: Annotated[
            datetime | None, QueryParameter(name="from", description="Recorded at or after")
        ] = None,
        to: Annotated[datetime | None, QueryParameter(description="Recorded before")] = None,
        after: FromQuery[After] = 0,
        limit: FromQuery[Limit] = 100,
        min_position: FromQuery[MinPosition] = None,
    ) -> AuditPage:
        """Every entry with actor, role, recorded and occurred times, late-entry flag and its corrections."""
        await read_consistently(positions, ["audit"], min_position)
        where = AuditFilter(case_id, actor, type_, from_, to)
        async with read_pool.acquire() as conn:
            return await audit_entries(conn, where, after=after, limit=limit)
