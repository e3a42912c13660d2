"""Governance pages: how reviews led to action by service and month, each figure drilling down to the
reviews behind it and each review to the person's record (whose read is logged there); what the
service's open cases need done; how fast flagged items are actioned. Governance only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from events.values import Actor, ReviewKind, Role, ShortText
from projections.queries import Reader
from projections.queries.action_times import time_to_action
from projections.queries.actions import ActionScope, action_page
from projections.queries.impact import ImpactQuery, review_impact
from projections.queries.review_drilldown import ReviewFilter, ReviewLed, reviews_page
from service.http.reading import QueryTooLong, ReadPools
from service.http.routes.drilldown import page_cursor
from service.http.routes.parameters import like
from service.pages.web import Pages, actor_of, render

__all__ = ["GOVERNANCE_ROUTES", "PART_NOT_SHOWN"]

T = TypeVar("T")
A_YEAR = timedelta(days=365)
PART_NOT_SHOWN = "That took too long"
"""The heading of a part of the governance page that needed more than the read limits allow."""
REVIEWS_PER_PAGE = 25
CASES_PER_ACTION_PAGE = 50
Day = Annotated[date | None, QueryParameter(description="A day, YYYY-MM-DD")]
FromDay = Annotated[date | None, QueryParameter(name="from", description="A day, YYYY-MM-DD")]
Service = Annotated[str | None, QueryParameter(**like(ShortText))]
Cursor = Annotated[str | None, QueryParameter(pattern="^[A-Za-z0-9_-]{1,400}$")]


def _governance(request: Request[Any, Any, Any], pages: Pages) -> Actor:
    actor = actor_of(request, pages)
    if actor.role is not Role.GOVERNANCE:
        raise PermissionDeniedException("governance only")
    return actor


def _period(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """Whole days in UTC, by default the year to the end of today; at most ten years."""
    last = end or datetime.now(UTC).date()
    first = start or (last - A_YEAR)
    if first > last or (last - first).days > 3660:
        first = last - A_YEAR
    return datetime.combine(first, time(), UTC), datetime.combine(last + timedelta(days=1), time(), UTC)


def drill_link(service: str, month: date, led_to: ReviewLed | None) -> str:
    """The drill-down address for one service and month (and what the reviews led to)."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1) - timedelta(days=1)
    query = {"service": service, "from": month.isoformat(), "to": following.isoformat()}
    return "/app/governance/reviews?" + urlencode(query | ({"led_to": led_to.value} if led_to else {}))


@get("/governance")
async def governance_page(
    *,
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    reads: NamedDependency[ReadPools],
    from_: FromDay = None,
    to: Day = None,
    service: Service = None,
    actions_after: Annotated[UUID | None, QueryParameter(description="The action list's next page")] = None,
) -> Template:
    """Figures by service and month, each linking to its reviews; the action list (a page of cases
    at a time); time to action. Each part is read within the read limit on its own: one that takes
    too long (time to action for every service at a large provider) says so, and the rest shows."""
    _governance(request, pages)
    start, end = _period(from_, to)
    now = datetime.now(UTC)
    interval = pages.settings.review_interval_days
    scope = ActionScope(service=service, review_interval_days=interval)
    impact = await _shown(
        _read(reads, lambda conn: review_impact(conn, ImpactQuery(start, end, service, 1), now))
    )
    times = await _shown(time_to_action(reads.service, start, end, service, now=now, interval_days=interval))
    actions = await _shown(
        _read(
            reads,
            lambda conn: action_page(conn, scope, now, after=actions_after, limit=CASES_PER_ACTION_PAGE),
        )
    )
    last_day = (end - timedelta(days=1)).date()
    return render(
        request,
        pages,
        "governance.jinja",
        months=None if impact is None else impact.by_service_month,
        times=times,
        actions=None if actions is None else actions.items,
        actions_next=actions and _next_actions(start.date(), last_day, service, actions.next_after),
        limit_seconds=reads.limit_seconds,
        not_shown=PART_NOT_SHOWN,
        drill=drill_link,
        led=ReviewLed,
        service=service or "",
        start=start.date(),
        end=last_day,
    )


async def _read(reads: ReadPools, read: Callable[[Reader], Awaitable[T]]) -> T:
    async with reads.service() as conn:
        return await read(conn)


async def _shown(read: Awaitable[T]) -> T | None:
    """What ``read`` found within the read limits, or None when it needed more."""
    try:
        return await read
    except QueryTooLong:
        return None


def _next_actions(first: date, last: date, service: str | None, after: UUID | None) -> str | None:
    """The address of the action list's next page (the same period and service), if there is one."""
    if after is None:
        return None
    query = {"from": first.isoformat(), "to": last.isoformat(), "actions_after": str(after)}
    return "/app/governance?" + urlencode(query | ({"service": service} if service else {})) + "#needs-action"


@get("/governance/reviews")
async def governance_reviews_page(
    *,
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    reads: NamedDependency[ReadPools],
    from_: FromDay = None,
    to: Day = None,
    service: Service = None,
    kind: FromQuery[ReviewKind | None] = None,
    led_to: FromQuery[ReviewLed | None] = None,
    after: Cursor = None,
) -> Template:
    """The reviews behind a figure, a page at a time, each with what followed and a link to the record."""
    _governance(request, pages)
    start, end = _period(from_, to)
    where = ReviewFilter(start=start, end=end, service=service, kind=kind, led_to=led_to)
    async with reads.service() as conn:
        found = await reviews_page(
            conn, where, after=page_cursor(after), limit=REVIEWS_PER_PAGE, now=datetime.now(UTC)
        )
    query = {"from": start.date().isoformat(), "to": (end - timedelta(days=1)).date().isoformat()}
    query |= {k: v for k, v in (("service", service), ("kind", kind), ("led_to", led_to)) if v}
    return render(
        request,
        pages,
        "governance_reviews.jinja",
        page=found,
        filters=query,
        next_link=(
            None if found.next_after is None else "?" + urlencode(query | {"after": found.next_after})
        ),
    )


GOVERNANCE_ROUTES = [governance_page, governance_reviews_page]
