"""Queries over the projections: learning log, review impact, audit trail.

Every query accepts ``min_position`` (a write's ``position``) and waits, bounded, until the
projections it reads have applied it: read-your-writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from events.case import Case
from events.entries import Entry
from events.values import Actor, Role
from projections.queries.audit import AuditFilter, AuditPage, audit_entries
from projections.queries.impact import ImpactQuery, ReviewImpact, review_impact
from projections.queries.learning import LearningLog, learning_log
from projections.queries.replayed import replayed_learning_log, replayed_trajectory
from projections.queries.trajectory import Trajectory, trajectory
from service.http.access import Purpose, PurposeOfUse, authorise_logged
from service.http.auth import requires
from service.http.listing import log_named_cases
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.http.replaying import ReplayPoint, replay_case
from service.http.routes.parameters import (
    After,
    From,
    Limit,
    MinPosition,
    OccurredUntil,
    RecordedFrom,
    RecordedTo,
    RecordedUntil,
    ServiceFilter,
    To,
    TypeFilter,
    UserFilter,
    period,
    recorded_between,
)
from service.write.application import CaseRecords

__all__ = [
    "AuditController",
    "GovernanceController",
    "PersonProjectionController",
    "read_case",
    "read_consistently",
]


async def read_consistently(positions: PositionWatcher, names: list[str], min_position: int | None) -> None:
    """Wait until the named projections have applied ``min_position`` (else 503 with Retry-After)."""
    if min_position is not None:
        await positions.wait_for(names, min_position)


def read_case(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    view: str,
    *,
    version: int | None = None,
    projections: bool = False,
    purpose: Purpose | None = None,
) -> Case:
    """A case for a reader with a legitimate relationship to it, as it stands or at ``version``;
    the read is logged with its purpose (governance states one). For a projection (``projections``)
    only who may read and the version are looked at, so the cached case is used without a copy.
    Blocking: call it in a worker thread."""
    if not projections:
        point = ReplayPoint()
        return replay_case(records, actor, case_id, view, point, version=version, purpose=purpose).case
    case = records.get_case(case_id, copy=False)
    why = authorise_logged(records, actor, case, view, purpose)
    records.case_recorder.record_view(actor.id, actor.role.value, case_id, view, case.version, purpose=why)
    return case


async def authorise_person(
    request: Request[Actor, Any, Any],
    records: CaseRecords,
    case_id: UUID,
    view: str,
    purpose: Purpose | None = None,
) -> None:
    """Governance reads every case's projections, for a stated purpose; a clinician their care team's
    (or under a break-glass grant). Logged."""
    await anyio.to_thread.run_sync(
        lambda: read_case(records, request.user, case_id, view, projections=True, purpose=purpose)
    )


def replay_entries(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    view: str,
    point: ReplayPoint,
    *,
    purpose: Purpose | None,
) -> list[tuple[int, Entry]]:
    """The entries a projection replayed at ``point`` is folded from (the write side holds every
    entry and correction; a projection keeps only the latest reading). Authorised as a read of the
    record and logged. Blocking: call it in a worker thread."""
    return replay_case(records, actor, case_id, view, point, entries=True, purpose=purpose).entries or []


class PersonProjectionController(Controller):
    """One person's projections: learning log (and trajectory). Clinical content: an admin manages care
    teams and reads none of it."""

    path = "/cases/{case_id:uuid}"
    tags = ("Projections",)
    guards = (requires(Role.CLINICIAN, Role.GOVERNANCE),)

    @get(
        "/learning-log", operation_id="getLearningLog", summary="Setbacks and escalations, and what followed"
    )
    async def learning_log(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        case_id: FromPath[UUID],
        min_position: MinPosition = None,
        recorded_until: RecordedUntil = None,
        occurred_until: OccurredUntil = None,
        purpose: PurposeOfUse = None,
    ) -> LearningLog:
        """Contributing factors, risk management, learning and adaptation, each with the plan changes
        or confirmations it led to and the days it took; as of a replay point when one is sent."""
        point = ReplayPoint.of(recorded_until, occurred_until)
        if point.active:
            await read_consistently(positions, ["care"], min_position)
            return await anyio.to_thread.run_sync(
                lambda: replayed_learning_log(
                    case_id,
                    replay_entries(records, request.user, case_id, "learning-log", point, purpose=purpose),
                )
            )
        await authorise_person(request, records, case_id, "learning-log", purpose)
        await read_consistently(positions, ["care"], min_position)
        async with reads.person() as conn:
            return await learning_log(conn, case_id)

    @get("/trajectory", operation_id="getTrajectory", summary="Direction of travel per domain and measure")
    async def trajectory(
        self,
        *,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        case_id: FromPath[UUID],
        min_position: MinPosition = None,
        recorded_until: RecordedUntil = None,
        occurred_until: OccurredUntil = None,
        purpose: PurposeOfUse = None,
    ) -> Trajectory:
        """Per domain and instrument: readings, change since baseline with its reliable-change category,
        Theil-Sen trend per 90 days, label with n, span and last date, the last 90 days against the 90
        before; confidence and autonomy; escalation rate, severity trend and gaps. As of now, or as of
        a replay point (its earlier time is "now" for the windows and labels)."""
        point = ReplayPoint.of(recorded_until, occurred_until)
        if point.active:
            await read_consistently(positions, ["trajectory", "care"], min_position)
            return await anyio.to_thread.run_sync(
                lambda: replayed_trajectory(
                    case_id,
                    replay_entries(records, request.user, case_id, "trajectory", point, purpose=purpose),
                    point.now(),
                )
            )
        await authorise_person(request, records, case_id, "trajectory", purpose)
        await read_consistently(positions, ["trajectory", "care"], min_position)
        async with reads.person() as conn:
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
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        from_: From,
        to: To,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        service: ServiceFilter = None,
        limit: Limit = 100,
        min_position: MinPosition = None,
        purpose: PurposeOfUse = None,
    ) -> ReviewImpact:
        """Per review, the decisions that followed and days to decision; reviews with no decision after
        28 days; plan changes with nothing behind them; share of reviews leading to a change by service
        and month."""
        start, end = period(from_, to)
        await read_consistently(positions, ["care"], min_position)
        async with reads.service() as conn:
            impact = await review_impact(conn, ImpactQuery(start, end, service, limit), datetime.now(UTC))
        await log_named_cases(records, request.user, impact, "list review-impact", purpose)
        return impact


class AuditController(Controller):
    """The audit trail of entries, for governance."""

    path = "/audit"
    tags = ("Audit",)
    guards = (requires(Role.GOVERNANCE, Role.ADMIN),)

    @get("/entries", operation_id="getAuditEntries", summary="Who recorded or corrected what, when")
    async def entries(
        self,
        *,
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        case_id: FromQuery[UUID | None] = None,
        actor: UserFilter = None,
        type_: TypeFilter = None,
        from_: RecordedFrom = None,
        to: RecordedTo = None,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        after: After = 0,
        limit: Limit = 100,
        min_position: MinPosition = None,
        purpose: PurposeOfUse = None,
    ) -> AuditPage:
        """Every entry with actor, role, recorded and occurred times, late-entry flag and its corrections."""
        recorded_from, recorded_to = recorded_between(from_, to)
        await read_consistently(positions, ["audit"], min_position)
        where = AuditFilter(case_id, actor, type_, recorded_from, recorded_to)
        async with reads.service() as conn:
            page = await audit_entries(conn, where, after=after, limit=limit)
        await log_named_cases(records, request.user, page, "list audit-entries", purpose)
        return page
