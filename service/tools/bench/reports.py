"""The ``reports`` suite: the commissioner report page for the last year over HTTP, for the largest
service and for every service, beside the same report computed in process (issue 11: a year's
report renders in under 5 s at 10M events)."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from events.values import Actor, Role
from projections.queries.report import service_report
from projections.queries.service import ServiceQuery
from service.pages.report import report_period
from service.settings import Settings
from service.tools.bench.client import HttpConnection, Timed
from service.tools.bench.pages import new_secret, session_cookie
from service.tools.bench.reads import in_process_pool
from service.tools.bench.rebuild import project_all
from service.tools.bench.report import Figure
from service.tools.bench.serving import projector, server
from service.tools.bench.suites import Bench, largest_service, or_stop

__all__ = ["run_reports"]

BENCH_GOVERNANCE = Actor(id="bench-governance", role=Role.GOVERNANCE)
_SCOPES = {"the largest service": True, "every service": False}


async def _pages_over_http(
    port: int, token: str, cookie: str, service: str, requests: int
) -> dict[str, float]:
    """Median milliseconds to GET the report page for each scope (a non-200 answer stops the run)."""
    medians = {}
    async with HttpConnection("127.0.0.1", port, f"Bearer {token}", cookie=cookie) as http:
        for scope, one_service in _SCOPES.items():
            timed = Timed()
            query = urlencode({"service": service}) if one_service else ""
            for _ in range(requests):
                await http.request("GET", f"/app/report?{query}", timed=timed)
            if any(status != 200 for status in timed.statuses):
                raise RuntimeError(f"the report page answered {sorted(set(timed.statuses))}")
            medians[scope] = statistics.median(timed.latencies_ms)
    return medians


async def _reports_in_process(dsn: str, settings: Settings, service: str, requests: int) -> dict[str, float]:
    """The same reports from ``service_report`` on a pool set up as the service's."""
    pool = await in_process_pool(dsn, settings)
    _, _, start, end = report_period(None, None)  # the page's default period
    medians = {}
    try:
        for scope, one_service in _SCOPES.items():
            query = ServiceQuery(start, end, service if one_service else None)
            taken = []
            for _ in range(requests):
                began = time.perf_counter()
                await service_report(pool, query, datetime.now(UTC), with_stories=True)
                taken.append((time.perf_counter() - began) * 1000)
            medians[scope] = statistics.median(taken)
    finally:
        await pool.close()
    return medians


def run_reports(runner: Bench, kind: str) -> None:
    """A few report pages a run (each takes seconds at 10M events), then the same in process."""
    dsn = runner.runtime.address.url
    asyncio.run(project_all(dsn))
    service = asyncio.run(largest_service(dsn))
    requests = max(3, runner.requests // 40)
    secret = new_secret()
    watcher = projector(runner.env)
    process = or_stop(watcher, lambda: server(kind, {**runner.env, "WAYMARK_SESSION_SECRET": secret}))
    try:
        cookie, port = session_cookie(secret, BENCH_GOVERNANCE), process.port or 0
        token = runner.token(Role.GOVERNANCE, BENCH_GOVERNANCE.id)
        http = runner.repeat(
            f"report pages over HTTP ({kind})",
            lambda: asyncio.run(_pages_over_http(port, token, cookie, service, requests)),
        )
        runner.note_peak("service", process)
    finally:
        process.stop()
        watcher.stop()
    inside = runner.repeat(
        "reports in process",
        lambda: asyncio.run(_reports_in_process(dsn, runner.settings, service, requests)),
    )
    for scope in _SCOPES:
        runner.report.add(
            Figure(
                f"report page for a year, {scope}, median of {requests} ({kind})",
                "ms",
                [run[scope] for run in http],
                [run[scope] for run in inside],
                "the same report in process",
                target="< 5,000 ms",
                higher_is_better=False,
            )
        )
