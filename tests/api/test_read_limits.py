"""The read side under pressure: a query over the time limit is a 503 however many run at once, and
reports cannot hold the connections a clinician's read needs."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, cast

import asyncpg
import httpx
import pytest

from service.bootstrap import Runtime
from service.database import DatabaseAddress
from service.http.app import create_app
from service.http.reading import QueryTooLong, ReadPools
from service.settings import Settings
from tests.api.helpers import Client, open_case, user
from tests.support.tokens import TokenFactory

PERIOD = {"from": "2016-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}


@contextlib.asynccontextmanager
async def serving(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with these settings, served in this event loop so that requests really run at
    once (AsyncTestClient serves one request at a time from a thread of its own)."""
    app = create_app(Runtime(settings, runtime.address, runtime.records), run_projector=False)
    # Litestar types its ASGI messages more narrowly than httpx's plain mappings; they are the same.
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://waymark") as http:
        yield http


@pytest.mark.slow  # fifty reads held at the limit: about 1.3 s
async def test_fifty_reads_over_the_limit_with_normal_reads_are_503s_and_200s_only(
    settings: Settings, runtime: Runtime, auth: TokenFactory
) -> None:
    headers = auth("governance", user("g"))
    statuses: collections.Counter[tuple[str, int]] = collections.Counter()
    async with (
        serving(replace(settings, read_timeout_ms=1), runtime) as impatient,
        serving(settings, runtime) as normal,
    ):
        for _ in range(3):
            over = [impatient.get("/service/learning", params=PERIOD, headers=headers) for _ in range(50)]
            usual = [normal.get("/service/learning", params=PERIOD, headers=headers) for _ in range(10)]
            for name, responses in (("over", over), ("normal", usual)):
                for response in await asyncio.gather(*responses):
                    statuses[name, response.status_code] += 1
                    if response.status_code == 503:
                        assert response.json()["type"] == "/problems/query-too-long"
    assert set(statuses) <= {("over", 503), ("over", 200), ("normal", 200)}, statuses
    assert statuses["over", 503] > 0


async def test_time_to_action_over_the_limit_on_both_its_connections_is_query_too_long(
    settings: Settings, runtime: Runtime, auth: TokenFactory
) -> None:
    """Time to action reads stalls on one connection and the other kinds on a second, at once: over
    the limit, both are let go and the answer is a 503, never a 500 (nor a stray task's error)."""
    headers = auth("governance", user("g"))
    async with serving(replace(settings, read_timeout_ms=0), runtime) as impatient:
        for _ in range(3):
            response = await impatient.get("/service/time-to-action", params=PERIOD, headers=headers)
            assert response.status_code == 503, response.text
            assert response.json()["type"] == "/problems/query-too-long"
    async with serving(settings, runtime) as normal:
        assert (
            await normal.get("/service/time-to-action", params=PERIOD, headers=headers)
        ).status_code == 200


WIDE = "SELECT " + ", ".join(f"$1::int + {i} AS c{i}" for i in range(1500))
"""A statement PostgreSQL takes a few milliseconds to describe: long enough for a time limit to
expire while it does, which is when a server-side statement_timeout broke the connection."""


@pytest.mark.slow  # a load of timed-out reads: 6 s or more
async def test_a_limit_expiring_while_a_statement_is_described_is_only_ever_query_too_long(
    settings: Settings,
) -> None:
    assert settings.database_url
    outcomes: collections.Counter[str] = collections.Counter()
    for limit_ms in range(1, 16):
        reads = await ReadPools.open(settings.database_url, replace(settings, read_timeout_ms=limit_ms))
        try:
            for attempt in range(30):
                try:
                    # A new statement text each time: every query is prepared, not found in the cache.
                    async with reads.person() as conn:
                        await conn.fetch(f"{WIDE} -- {limit_ms}.{attempt}", 1)
                    outcomes["answered"] += 1
                except QueryTooLong:
                    outcomes["too long"] += 1
        finally:
            await reads.close()
    assert set(outcomes) <= {"answered", "too long"}, outcomes
    assert outcomes["too long"] > 0


async def until_blocked(dsn: str, holder: int, count: int) -> None:
    """Return once ``count`` backends wait on a lock ``holder`` holds (polled: nothing notifies)."""
    observer = await asyncpg.connect(dsn)
    try:
        for _ in range(3000):
            blocked = await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))", holder
            )
            if blocked >= count:
                return
            await asyncio.sleep(0.01)
    finally:
        await observer.close()
    pytest.fail(f"fewer than {count} reports waited on the lock")


async def test_a_clinician_s_trajectory_is_answered_while_reports_hold_every_service_connection(
    client: Client, settings: Settings, runtime: Runtime, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    reporting = auth("reporting", user("r"))
    assert settings.database_url
    small = replace(settings, read_pool_size=2, service_pool_size=2, read_timeout_ms=20_000)
    async with serving(small, runtime) as http:
        lock = await asyncpg.connect(settings.database_url)
        try:
            async with lock.transaction():
                # Every review-share chart now waits on the lock, holding a service connection.
                await lock.execute("LOCK TABLE read.reviews IN ACCESS EXCLUSIVE MODE")
                chart = "/service/spc/reviews-leading-to-change"
                reports = [
                    asyncio.create_task(http.get(chart, params=PERIOD, headers=reporting)) for _ in range(6)
                ]
                await until_blocked(settings.database_url, lock.get_server_pid(), 2)
                trajectory = await http.get(f"/cases/{case_id}/trajectory", headers=clinician)
                assert trajectory.status_code == 200, trajectory.text
                assert not any(report.done() for report in reports), "every report waits on the lock"
            assert [report.status_code for report in await asyncio.gather(*reports)] == [200] * 6
        finally:
            await lock.close()


@pytest.mark.parametrize("pool", ["person_pool", "service_pool"])
async def test_read_connections_limit_memory_and_temporary_files(settings: Settings, pool: str) -> None:
    assert settings.database_url
    limits = replace(
        settings, read_work_mem_kb=12 * 1024, read_temp_file_limit_kb=64 * 1024, read_timeout_ms=7000
    )
    reads = await ReadPools.open(settings.database_url, limits)
    try:
        async with getattr(reads, pool).acquire() as conn:
            shown = [await conn.fetchval(f"SHOW {name}") for name in ("work_mem", "temp_file_limit")]
            assert shown == ["12MB", "64MB"]
            assert await conn.fetchval("SHOW statement_timeout") == "8s"
    finally:
        await reads.close()


async def test_a_read_that_would_spill_past_the_temporary_file_limit_is_query_too_long(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Until then an asyncpg error reached the client as a 500 (time to action at 10M events)."""
    assert settings.database_url
    limits = replace(settings, read_work_mem_kb=64, read_temp_file_limit_kb=1024)
    reads = await ReadPools.open(settings.database_url, limits)
    try:
        with pytest.raises(QueryTooLong):
            async with reads.service() as conn:
                await conn.fetch("SELECT g FROM generate_series(1, 500000) g ORDER BY g DESC")
        async with reads.service() as conn:  # the connection is fine afterwards
            assert await conn.fetchval("SELECT count(*) FROM generate_series(1, 10) g") == 10
    finally:
        await reads.close()
    assert any("temp_file_limit" in r.getMessage() for r in caplog.records if r.name == "waymark.reads")


async def test_a_role_that_may_not_limit_temporary_files_still_reads(
    pg_server: DatabaseAddress, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """temp_file_limit is a superuser setting: a role not granted it (as `waymark db grant` does)
    still reads, and a warning says what to grant."""
    role = f"waymark_h8_{user('r').split('-')[1]}"
    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN")
        try:
            await reads_without_the_grant(replace(pg_server, user=role).url, settings, caplog)
        finally:
            await admin.execute(f"DROP ROLE {role}")
    finally:
        await admin.close()


async def reads_without_the_grant(dsn: str, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    reads = await ReadPools.open(dsn, settings)
    try:
        async with reads.person() as conn:
            assert await conn.fetchval("SHOW temp_file_limit") == "-1"
            assert await conn.fetchval("SHOW work_mem") == "8MB"
        assert [r.getMessage() for r in caplog.records if "temp_file_limit" in r.getMessage()] == [
            "temp_file_limit is not in force on the read side: the database role may not set it "
            "(GRANT SET ON PARAMETER temp_file_limit TO <role>)"
        ]
    finally:
        await reads.close()
