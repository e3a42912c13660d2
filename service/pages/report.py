"""The commissioner report as a page (its print stylesheet makes the browser's print the PDF) and one
CSV per table, from the same figures as ``GET /service/report``: governance only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from events.values import Role
from projections.queries.report import ServiceReport
from projections.suppression import TOO_FEW
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.http.routes.service_level import report_for
from service.pages.report_charts import draw
from service.pages.web import Pages, actor_of, render

__all__ = ["REPORT_ROUTES", "report_csv_tables", "report_period"]

Day = Annotated[date | None, QueryParameter(name="from")]
Until = Annotated[date | None, QueryParameter(description="The last day of the period (inclusive)")]
ServiceName = Annotated[str | None, QueryParameter(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


async def _report(
    request: Request[Any, Any, Any],
    pages: Pages,
    *,
    reads: ReadPools,
    positions: PositionWatcher,
    first: date | None,
    last: date | None,
    service: str | None,
) -> tuple[ServiceReport, date, date]:
    actor = actor_of(request, pages)
    if actor.role is not Role.GOVERNANCE:
        raise PermissionDeniedException("the report is for governance")
    first, last, start, end = report_period(first, last)
    report = await report_for(reads, positions, actor, from_=start, to=end, service=service or None)
    return report, first, last


def report_period(first: date | None, last: date | None) -> tuple[date, date, datetime, datetime]:
    """The report's days (by default the 365 up to and including today, UTC) and the half-open
    period of times they make."""
    last = last or datetime.now(UTC).date()
    first = first or last - timedelta(days=364)
    start = datetime.combine(first, time(), UTC)
    return first, last, start, datetime.combine(last + timedelta(days=1), time(), UTC)


@get("/report")
async def report_page(
    *,
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    reads: NamedDependency[ReadPools],
    positions: NamedDependency[PositionWatcher],
    from_: FromQuery[Day] = None,
    to: FromQuery[Until] = None,
    service: FromQuery[ServiceName] = None,
) -> Template:
    """The report for a period (by default the last year) and a service (or all)."""
    report, first, last = await _report(
        request, pages, reads=reads, positions=positions, first=from_, last=to, service=service
    )
    drawings = {
        c.metric: (
            None if c.this_period is None else draw(c.this_period, higher_is_better=c.higher_is_better),
            None if c.last_period is None else draw(c.last_period, higher_is_better=c.higher_is_better),
        )
        for c in report.charts
    }
    period = {"from": first.isoformat(), "to": last.isoformat()} | ({"service": service} if service else {})
    query = urlencode(period)
    return render(
        request,
        pages,
        "report.jinja",
        report=report,
        first=first,
        last=last,
        service=service or "",
        drawings=drawings,
        query=query,
        tables=list(TABLES),
        too_few=TOO_FEW,
    )


@get("/report/csv/{table:str}")
async def report_table_csv(
    *,
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    reads: NamedDependency[ReadPools],
    positions: NamedDependency[PositionWatcher],
    table: FromPath[str],
    from_: FromQuery[Day] = None,
    to: FromQuery[Until] = None,
    service: FromQuery[ServiceName] = None,
) -> Response[str]:
    """One table of the report as CSV, with the same figures as the page (suppressed counts as "<5")."""
    if table not in TABLES:
        raise NotFoundException
    report, first, last = await _report(
        request, pages, reads=reads, positions=positions, first=from_, last=to, service=service
    )
    name = f"waymark-report-{table}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        report_csv_tables(report)[table],
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _outcomes(rows: list[Any]) -> list[list[Any]]:
    head = [
        "group",
        "people",
        "recovered",
        "reliably_improved",
        "no_reliable_change",
        "reliably_deteriorated",
        "too_few_readings",
        "share_with_enough_readings",
        "share_reliably_improved_or_recovered",
    ]
    return [head, *([getattr(r, k) for k in head] for r in rows)]


def _charts(report: ServiceReport) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["metric", "period", "month", "value", "mean", "lower", "upper", "special_cause"]
    ]
    for c in report.charts:
        for period, chart in (("this", c.this_period), ("last", c.last_period)):
            if chart is None:
                rows.append([c.metric, period, "", TOO_FEW, "", "", "", ""])
                continue
            rows.extend(
                [
                    c.metric,
                    period,
                    p.label,
                    p.value,
                    round(p.mean, 4),
                    round(p.lower, 4),
                    round(p.upper, 4),
                    p.special_cause,
                ]
                for p in chart.points
            )
    return rows


def _delivery(report: ServiceReport) -> list[list[Any]]:
    head = [
        "service",
        "month",
        "reviews",
        "led_to_change",
        "no_change_because",
        "no_action_within_28_days",
        "share_led_to_action",
        "median_days_to_decision",
    ]
    rows = [head, *([getattr(m, k) for k in head] for m in report.delivery)]
    st = report.when_outcomes_stalled
    rows.append(["when outcomes stalled: people", "", st.people])
    rows.append(["when outcomes stalled: plan changed after", "", st.plan_changed])
    rows.append(["when outcomes stalled: only no change, because", "", st.plan_confirmed_only])
    rows.append(["when outcomes stalled: no decision yet", "", st.no_decision_yet])
    rows.append(
        ["when outcomes stalled: median days to first decision", "", st.median_days_to_first_decision]
    )
    rows.append(["flagged: no decision after 28 days", "", report.no_decision_after_28_days])
    rows.append(["flagged: plan changes naming no cause", "", report.changes_without_cause])
    return rows


def _case_mix(report: ServiceReport) -> list[list[Any]]:
    rows: list[list[Any]] = [["measure", "group", "people"]]
    for row in report.case_mix:
        rows.extend([row.measure, group, n] for group, n in row.counts.items())
        rows.append([row.measure, "all", row.people])
    return rows


def _stories(report: ServiceReport) -> list[list[Any]]:
    return [
        ["agreed_on", "domains", "story"],
        *([s.agreed_on, " ".join(s.domains), s.story] for s in report.stories or []),
    ]


TABLES = {
    "outcomes-by-instrument": lambda r: _outcomes(r.outcomes_by_instrument),
    "outcomes-by-domain": lambda r: _outcomes(r.outcomes_by_domain),
    "spc-charts": _charts,
    "delivery": _delivery,
    "case-mix": _case_mix,
    "stories": _stories,
}
"""Every table of the report, by the name its CSV is served under."""


def report_csv_tables(report: ServiceReport) -> dict[str, str]:
    """Each table of the report as CSV text; a share withheld is empty."""
    out = {}
    for name, rows_of in TABLES.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerows([_cell(v) for v in row] for row in rows_of(report))
        out[name] = buffer.getvalue()
    return out


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell starting with = + - or @ as a formula: a story must stay words.
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


REPORT_ROUTES = [report_page, report_table_csv]
