"""Reading a long case, and the projection queries on a large database: over HTTP, beside the same
work done in process without HTTP (the raw baseline)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from projections.queries.actions import ActionScope, action_page
from projections.queries.audit import AuditFilter, audit_entries
from projections.queries.impact import ImpactQuery, review_impact
from projections.queries.review_drilldown import ReviewFilter, reviews_page
from projections.queries.service import ServiceQuery, service_learning
from projections.queries.trajectory import trajectory
from service.http.reading import server_settings
from service.settings import Settings
from service.tools.bench.client import HttpConnection, Timed
from service.tools.bench.commands import review
from service.write.application import CaseRecords

__all__ = ["long_case", "queries_in_process", "queries_over_http", "reads_in_process", "reads_over_http"]

Query = Callable[[asyncpg.Pool], Awaitable[object]]


def long_case(records: CaseRecords, case_id: uuid.UUID, entries: int) -> None:
    """Grow a case to ``entries`` entries (saved in batches of 100, as one transaction each)."""
    case = records.get_case(case_id)
    while case.version < entries:
        for _ in range(min(100, entries - case.version)):
            case.record(review(case_id))
        records.save(case)


async def reads_over_http(port: int, token: str, case_id: uuid.UUID, requests: int) -> dict[str, Timed]:
    """GET the case and the first page of its history, ``requests`` times each."""
    timed = {"case": Timed(), "history": Timed()}
    async with HttpConnection("127.0.0.1", port, f"Bearer {token}") as http:
        for _ in range(requests):
            await http.request("GET", f"/cases/{case_id}", timed=timed["case"])
            await http.request("GET", f"/cases/{case_id}/history?limit=100", timed=timed["history"])
    return timed


def reads_in_process(records: CaseRecords, case_id: uuid.UUID, requests: int) -> dict[str, Timed]:
    """The same reads through the Application, without HTTP."""
    timed = {"case": Timed(), "history": Timed()}
    for _ in range(requests):
        for name, read in (
            ("case", lambda: records.get_case(case_id)),
            ("history", lambda: records.entries(case_id, after=0, limit=100)),
        ):
            started = time.perf_counter()
            read()
            timed[name].latencies_ms.append((time.perf_counter() - started) * 1000)
    return timed


def _targets(
    case_ids: list[uuid.UUID], service: str, actor: str
) -> dict[str, tuple[Callable[[], str], Query]]:
    """For each query: a random request path, and the same query in process."""
    now = datetime.now(UTC)
    year_ago = now - timedelta(days=365)
    window = f"from={year_ago.date()}T00:00:00Z&to={now.date()}T23:59:59Z&service={service}"
    pick = random.Random(1).choice
    impact = ImpactQuery(year_ago, now, service)
    learning = ServiceQuery(year_ago, now, service)
    drill = ReviewFilter(start=year_ago, end=now, service=service)
    return {
        "trajectory": (
            lambda: f"/cases/{pick(case_ids)}/trajectory?purpose=audit",
            lambda pool: _on_one(pool, lambda conn: trajectory(conn, pick(case_ids), now)),
        ),
        "review impact": (
            lambda: f"/governance/review-impact?{window}&purpose=audit",
            lambda pool: _on_one(pool, lambda conn: review_impact(conn, impact, now)),
        ),
        "service learning": (
            lambda: f"/service/learning?{window}",
            lambda pool: service_learning(pool, learning, now, with_strategies=True),
        ),
        "review drill-down": (
            lambda: f"/service/reviews?{window}&limit=50&purpose=audit",
            lambda pool: _on_one(pool, lambda conn: reviews_page(conn, drill, after=None, limit=50, now=now)),
        ),
        "service actions": (
            lambda: f"/service/actions?service={service}&limit=50&purpose=audit",
            lambda pool: _on_one(
                pool,
                lambda conn: action_page(conn, ActionScope(service=service), now, after=None, limit=50),
            ),
        ),
        "audit by actor": (
            lambda: f"/audit/entries?actor={actor}&limit=100&purpose=audit",
            lambda pool: _on_one(
                pool, lambda conn: audit_entries(conn, AuditFilter(actor=actor), after=0, limit=100)
            ),
        ),
    }


async def queries_over_http(
    port: int, *, token: str, case_ids: list[uuid.UUID], service: str, actor: str, requests: int
) -> dict[str, Timed]:
    """Each projection query ``requests`` times over HTTP."""
    timed = {}
    async with HttpConnection("127.0.0.1", port, f"Bearer {token}") as http:
        for name, (path, _) in _targets(case_ids, service, actor).items():
            timed[name] = Timed()
            for _ in range(requests):
                await http.request("GET", path(), timed=timed[name])
    return timed


async def queries_in_process(
    dsn: str, settings: Settings, case_ids: list[uuid.UUID], service: str, actor: str, *, requests: int
) -> dict[str, Timed]:
    """The same queries, called directly on an asyncpg pool set up as the service's: the raw baseline."""
    timed = {}
    pool = await in_process_pool(dsn, settings)
    try:
        for name, (_, query) in _targets(case_ids, service, actor).items():
            timed[name] = Timed()
            for _ in range(requests):
                started = time.perf_counter()
                await query(pool)
                timed[name].latencies_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await pool.close()
    return timed


async def in_process_pool(dsn: str, settings: Settings) -> asyncpg.Pool:
    """A pool of the service's size whose connections are set up as the service's read connections."""
    size = settings.service_pool_size
    return await asyncpg.create_pool(
        dsn, min_size=size, max_size=size, server_settings=server_settings(settings)
    )


async def _on_one(pool: asyncpg.Pool, query: Callable[[Any], Awaitable[object]]) -> object:
    async with pool.acquire() as conn:
        return await query(conn)
