"""The ``reports`` suite: the commissioner report page and the governance page for the last year
over HTTP, for the largest service and for every service, beside the same report, and the time to
action (the governance page's costly part), computed in process. Issue 11: a year's report renders
in under 5 s at 10M events; the governance page must answer within the read limit (10 s)."""

from __future__ import annotations

import asyncio
import functools
import itertools
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlencode

import asyncpg

from events.values import Actor, Role
from projections.queries.action_times import time_to_action
from projections.queries.report import service_report
from projections.queries.service import ServiceQuery
from service.pages.governance import PART_NOT_SHOWN
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
_PAGES = {"report": "/app/report", "governance": "/app/governance"}
"""The pages measured, by what they show; each by default the year to today."""


class _Pages(NamedTuple):
    medians: dict[tuple[str, str], float]
    """Milliseconds to GET each page for each scope (the median of the requests)."""
    cut_short: set[tuple[str, str]]
    """The pages that showed a part as too much to work out within the read limits."""


async def _pages_over_http(port: int, token: str, cookie: str, service: str, requests: int) -> _Pages:
    """GET each page for each scope ``requests`` times (a non-200 answer stops the run)."""
    pages = _Pages({}, set())
    async with HttpConnection("127.0.0.1", port, f"Bearer {token}", cookie=cookie) as http:
        for (page, path), (scope, one_service) in itertools.product(_PAGES.items(), _SCOPES.items()):
            timed = Timed()
            query = urlencode({"service": service}) if one_service else ""
            for _ in range(requests):
                if _TOO_MUCH in await http.request("GET", f"{path}?{query}", timed=timed):
                    pages.cut_short.add((page, scope))
            if any(status != 200 for status in timed.statuses):
                raise RuntimeError(f"the {page} page answered {sorted(set(timed.statuses))}")
            pages.medians[page, scope] = statistics.median(timed.latencies_ms)
    return pages


_TOO_MUCH = PART_NOT_SHOWN.encode()


async def _in_process(
    dsn: str, settings: Settings, service: str, requests: int
) -> dict[tuple[str, str], float]:
    """The same reports from ``service_report``, and the time to action, on a pool set up as the
    service's."""
    pool = await in_process_pool(dsn, settings)
    _, _, start, end = report_period(None, None)  # the pages' default period
    medians = {}
    try:
        for scope, one_service in _SCOPES.items():
            query = ServiceQuery(start, end, service if one_service else None)
            report = functools.partial(service_report, pool, query, with_stories=True)
            actioned = functools.partial(
                time_to_action,
                pool.acquire,
                start,
                end,
                query.service,
                interval_days=settings.review_interval_days,
            )
            medians["report", scope] = await _median_ms(report, requests)
            medians["governance", scope] = await _median_ms(actioned, requests)
    finally:
        await pool.close()
    return medians


async def _median_ms(compute: Callable[..., Awaitable[object]], requests: int) -> float:
    """The median milliseconds of ``requests`` computations; infinite when one needs more temporary
    space than a read may use (time to action for every service at 10M events)."""
    taken = []
    for _ in range(requests):
        began = time.perf_counter()
        try:
            await compute(now=datetime.now(UTC))
        except asyncpg.ConfigurationLimitExceededError:
            return math.inf
        taken.append((time.perf_counter() - began) * 1000)
    return statistics.median(taken)


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
        "reports and time to action in process",
        lambda: asyncio.run(_in_process(dsn, runner.settings, service, requests)),
    )
    cut_short = set().union(*(run.cut_short for run in http))
    for (page, (baseline, target)), scope in itertools.product(_FIGURES.items(), _SCOPES):
        shown = ", a part not shown: over the read limits" if (page, scope) in cut_short else ""
        runner.report.add(
            Figure(
                f"{page} page for a year, {scope}, median of {requests} ({kind}){shown}",
                "ms",
                [run.medians[page, scope] for run in http],
                [run[page, scope] for run in inside],
                baseline,
                target=target,
                higher_is_better=False,
            )
        )


_FIGURES = {
    "report": ("the same report in process", "< 5,000 ms"),
    "governance": ("its time to action in process", "< 10,000 ms (the read limit)"),
}
